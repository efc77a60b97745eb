#include "clusterpolicy/conflict.hpp"

#include <algorithm>

#include "apimachinery/rfc3339.hpp"
#include "clusterpolicy/apply_diff.hpp"

namespace cpo::clusterpolicy {

namespace {

using json = nlohmann::json;

// The fieldsV1 entry of one list element: "k:{...}" whose key fields the element
// has, "v:<value>" for a set of scalars, or "i:<index>" for an atomic position.
const json* element_fields(const json& fields, const json& element, std::size_t index) {
  for (auto it = fields.begin(); it != fields.end(); ++it) {
    const std::string& key = it.key();
    if (key.rfind("k:", 0) == 0 && element.is_object()) {
      const json keys = json::parse(key.substr(2), nullptr, false);
      if (!keys.is_object()) continue;
      const bool match = std::all_of(keys.items().begin(), keys.items().end(), [&](const auto& k) {
        return element.contains(k.key()) && element[k.key()] == k.value();
      });
      if (match) return &*it;
    } else if (key.rfind("v:", 0) == 0) {
      if (json::parse(key.substr(2), nullptr, false) == element) return &*it;
    } else if (key == "i:" + std::to_string(index)) {
      return &*it;
    }
  }
  return nullptr;
}

// The part of one manager's fieldsV1 at the end of `path` (null when it owns nothing there).
const json* owned_at(const json& fields_v1, const std::vector<PathStep>& path) {
  const json* at = &fields_v1;
  for (const auto& step : path) {
    if (!at->is_object()) return nullptr;
    if (!step.key.empty()) {
      auto it = at->find("f:" + step.key);
      if (it == at->end()) return nullptr;
      at = &*it;
    } else {
      if (!step.item) return nullptr;
      at = element_fields(*at, *step.item, step.index);
      if (!at) return nullptr;
    }
  }
  return at;
}

std::string path_text(const std::vector<PathStep>& path) {
  std::string text;
  for (const auto& step : path) {
    // Appended piece by piece: GCC 12 at -O3 warns (-Wrestrict, a false positive)
    // about `"literal" + std::string` here.
    if (!step.key.empty()) {
      if (!text.empty()) text.push_back('.');
      text.append(step.key);
    } else if (step.item && step.item->is_object() && step.item->contains("name") && (*step.item)["name"].is_string()) {
      text.append("[name=").append((*step.item)["name"].get_ref<const std::string&>()).push_back(']');
    } else {
      text.append("[").append(std::to_string(step.index)).push_back(']');
    }
  }
  return text;
}

// Whether the field at the end of `path` is in `live` (a differing value), not missing.
bool present(const json& live, const std::vector<PathStep>& path) {
  const json* at = &live;
  for (const auto& step : path) {
    if (!step.key.empty()) {
      if (!at->is_object() || !at->contains(step.key)) return false;
      at = &(*at)[step.key];
    } else {
      if (!step.item) return false;
      at = step.item;
    }
  }
  return true;
}

std::optional<ConflictTime> entry_time(const json& entry) {
  if (!entry.contains("time") || !entry["time"].is_string()) return std::nullopt;
  return apimachinery::parse_rfc3339(entry["time"].get<std::string>());
}

}  // namespace

Attribution attribute(const json& live, const json& desired, const std::string& our_manager) {
  Attribution out;
  const auto path = difference_path(live, desired);
  if (path.empty()) return out;
  out.field = path_text(path);
  const json entries = live.value("metadata", json::object()).value("managedFields", json::array());
  // An entry of the main resource (status writers never touch what we apply).
  auto candidate = [&](const json& entry) {
    return entry.is_object() && entry.value("subresource", "").empty() && entry.value("manager", "") != our_manager &&
           entry.contains("fieldsV1");
  };
  auto note = [&](const json& entry) {
    const std::string manager = entry.value("manager", "");
    if (std::find(out.managers.begin(), out.managers.end(), manager) == out.managers.end()) out.managers.push_back(manager);
    if (auto t = entry_time(entry); t && (!out.last_write || *t > *out.last_write)) out.last_write = t;
  };
  for (const auto& entry : entries) {
    if (candidate(entry) && owned_at(entry["fieldsV1"], path)) note(entry);
  }
  if (!out.managers.empty() || present(live, path)) return out;
  // A field of ours that was removed: nobody owns what is not there. Whoever
  // wrote the object after our last apply did it.
  std::optional<ConflictTime> ours;
  for (const auto& entry : entries) {
    if (entry.is_object() && entry.value("manager", "") == our_manager) ours = entry_time(entry);
  }
  for (const auto& entry : entries) {
    if (!candidate(entry) || entry.value("operation", "") != "Update") continue;
    if (const auto t = entry_time(entry); t && ours && *t > *ours) note(entry);
  }
  return out;
}

std::chrono::seconds quiet_period(std::chrono::seconds quiet, int strikes) {
  auto period = quiet;
  for (int i = 1; i < strikes && period < kMaxQuiet; ++i) period *= 2;
  return std::min(period, std::max(quiet, kMaxQuiet));
}

ConflictTime resumes_at(const Held& held, std::chrono::seconds quiet) {
  return held.last_write + quiet_period(quiet, held.strikes);
}

Judgement judge(ObjectHistory& history, const Attribution& who, const std::string& version, ConflictTime now,
                std::chrono::seconds quiet) {
  if (history.held) {
    Held& held = *history.held;
    if (who.last_write && who.last_write != held.stamp) {  // it wrote again
      held.stamp = who.last_write;
      held.last_write = now;
    }
    if (now < resumes_at(held, quiet)) return {false, false, false};
    history.held.reset();
    history.repairs = {now};
    history.repaired_version = version;
    history.last_repair = now;
    return {true, false, true};
  }
  if (!who.foreign()) return {};  // our desired state moved on
  if (history.strikes > 0 && now - history.last_repair > kForgetAfter) history = {};
  if (version == history.repaired_version && !version.empty()) return {};  // the cache has not seen our repair yet
  std::erase_if(history.repairs, [&](ConflictTime t) { return now - t > kRepairWindow; });
  history.repairs.push_back(now);
  history.repaired_version = version;
  history.last_repair = now;
  const std::size_t threshold = history.strikes > 0 ? 1 : kRepairsBeforeHolding;
  if (history.repairs.size() < threshold) return {};
  history.strikes += 1;
  history.held = Held{who.managers.front(), who.field, now, now, history.strikes, who.last_write};
  return {false, true, false};
}

}  // namespace cpo::clusterpolicy
