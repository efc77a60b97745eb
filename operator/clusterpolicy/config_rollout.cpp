#include "clusterpolicy/config_rollout.hpp"

#include <algorithm>

#include "clusterpolicy/snapshot.hpp"
#include "clusterpolicy/status.hpp"

namespace cpo::clusterpolicy {

namespace {

constexpr std::size_t kFailedHashesKept = 10;

std::string short_hash(const std::string& hash) { return hash.substr(0, 10); }

std::chrono::system_clock::time_point parse_rfc3339(const std::string& text, std::chrono::system_clock::time_point fallback) {
  std::tm tm{};
  if (text.size() < 20 || !strptime(text.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm)) return fallback;
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

std::vector<std::string> strings(const nlohmann::json& object, const char* key) {
  std::vector<std::string> out;
  if (auto it = object.find(key); it != object.end() && it->is_array()) {
    for (const auto& v : *it) {
      if (v.is_string()) out.push_back(v.get<std::string>());
    }
  }
  return out;
}

}  // namespace

std::string_view to_string(ConfigOutcome outcome) {
  switch (outcome) {
    case ConfigOutcome::Current: return "current";
    case ConfigOutcome::Rolling: return "rolling";
    case ConfigOutcome::Invalid: return "invalid";
    case ConfigOutcome::Missing: return "missing";
    case ConfigOutcome::PreviouslyFailed: return "previouslyFailed";
    case ConfigOutcome::RolledBack: return "rolledBack";
  }
  return "current";
}

RolloutRecord RolloutRecord::from_status(const nlohmann::json& c) {
  RolloutRecord r;
  if (!c.is_object()) return r;
  r.applied_hash = c.value("appliedHash", "");
  r.desired_hash = c.value("desiredHash", "");
  r.progress = c.value("progress", "");
  r.progress_since = c.value("progressSince", "");
  r.failed_hashes = strings(c, "failedHashes");
  return r;
}

namespace {

std::optional<ConfigSource> snapshot_of(const ConfigInputs& in, const std::string& hash) {
  if (hash.empty() || !in.snapshot_names.count(snapshot_name(in.source_name, hash))) return std::nullopt;
  return ConfigSource{snapshot_name(in.source_name, hash), hash};
}

}  // namespace

std::optional<ConfigSource> last_good_source(const ConfigInputs& in) {
  // What the pods run is the safest (nothing restarts), unless it is a config
  // that failed, or the consumers disagree (a rollback half applied).
  std::set<std::string> deployed;
  for (const auto& c : in.consumers) {
    if (!c.template_hash.empty()) deployed.insert(c.template_hash);
  }
  const auto& failed = in.record.failed_hashes;
  if (deployed.size() == 1 && std::find(failed.begin(), failed.end(), *deployed.begin()) == failed.end()) {
    if (auto source = snapshot_of(in, *deployed.begin())) return source;
  }
  return snapshot_of(in, in.record.applied_hash);
}

ConfigDecision decide_config(const ConfigInputs& in) {
  ConfigDecision d;
  d.record = in.record;
  auto snapshot_of = [&](const std::string& hash) { return cpo::clusterpolicy::snapshot_of(in, hash); };
  auto keep_last_good = [&]() { d.source = last_good_source(in); };
  auto kept_text = [&]() {
    return d.source ? "the consumers keep snapshot " + d.source->configmap_name
                    : std::string("the consumers run without config-manager until a valid config exists");
  };
  const std::string where = "ConfigMap " + in.ns + "/" + in.source_name;

  if (!in.source_data) {
    d.outcome = ConfigOutcome::Missing;
    keep_last_good();
    d.message = where + " does not exist; " + kept_text();
    return d;
  }

  // Nodes selecting keys that never existed are mislabelled: report, do not block.
  std::vector<NodeSelection> checked_nodes;
  for (const auto& node : in.nodes) {
    if (!node.selected_key.empty() && !in.source_data->count(node.selected_key) &&
        !in.applied_keys.count(node.selected_key)) {
      d.nodes_with_unknown_keys.push_back(node.node + "=" + node.selected_key);
    } else {
      checked_nodes.push_back(node);
    }
  }
  std::sort(d.nodes_with_unknown_keys.begin(), d.nodes_with_unknown_keys.end());

  std::optional<std::string> default_key;
  if (!in.default_key.empty()) default_key = in.default_key;
  auto result = validate_configmap(*in.source_data, default_key, checked_nodes, in.context, in.source_name);
  d.problems = result.problems;
  d.hash = content_hash(*in.source_data);

  if (!result.ok()) {
    d.outcome = ConfigOutcome::Invalid;
    keep_last_good();
    std::size_t errors = 0;
    std::string first;
    for (const auto& p : d.problems) {
      if (p.severity != Severity::Error) continue;
      if (errors++ == 0) first = format(p);
    }
    d.message = where + " is invalid (" + std::to_string(errors) + (errors == 1 ? " problem" : " problems") +
                ", first: " + first + "); " + kept_text();
    return d;
  }
  const auto& failed = in.record.failed_hashes;
  if (std::find(failed.begin(), failed.end(), d.hash) != failed.end()) {
    d.outcome = ConfigOutcome::PreviouslyFailed;
    keep_last_good();
    d.message = "config " + short_hash(d.hash) + " of " + where +
                " was rolled back after its pods did not become available; it is not retried until the "
                "ConfigMap changes; " + kept_text();
    return d;
  }

  // A valid, new or current config: roll it out.
  d.source = ConfigSource{snapshot_name(in.source_name, d.hash), d.hash};
  d.create_snapshot = !in.snapshot_names.count(d.source->configmap_name);
  const std::string now_text = rfc3339(in.now);
  if (d.record.desired_hash != d.hash) {
    d.record.desired_hash = d.hash;
    d.record.progress.clear();
    d.record.progress_since = now_text;
  }
  bool all_rolled = true;
  long updated = 0, available = 0;
  for (const auto& c : in.consumers) {
    bool done = c.template_hash == d.hash && c.rolled_out;
    all_rolled = all_rolled && done;
    if (c.template_hash == d.hash) {
      updated += c.updated;
      available += c.available;
    }
  }
  if (all_rolled) {
    d.outcome = ConfigOutcome::Current;
    d.just_rolled_out = d.record.applied_hash != d.hash;
    d.record.applied_hash = d.hash;
    d.record.progress.clear();
    d.message = "config " + short_hash(d.hash) + " of " + where + " is rolled out";
    return d;
  }

  d.outcome = ConfigOutcome::Rolling;
  const std::string progress = std::to_string(updated) + "/" + std::to_string(available);
  if (progress != d.record.progress) {
    d.record.progress = progress;
    d.record.progress_since = now_text;
  }
  const auto since = parse_rfc3339(d.record.progress_since, in.now);
  const auto stalled = std::chrono::duration_cast<std::chrono::seconds>(in.now - since);
  auto previous = snapshot_of(in.record.applied_hash);
  if (stalled >= in.rollout_deadline && previous && in.record.applied_hash != d.hash) {
    d.outcome = ConfigOutcome::RolledBack;
    d.record.failed_hashes.push_back(d.hash);
    if (d.record.failed_hashes.size() > kFailedHashesKept) {
      d.record.failed_hashes.erase(d.record.failed_hashes.begin());
    }
    d.record.desired_hash = in.record.applied_hash;
    d.record.progress.clear();
    d.record.progress_since = now_text;
    d.source = previous;
    d.create_snapshot = false;
    d.message = "the rollout of config " + short_hash(d.hash) + " of " + where + " made no progress for " +
                std::to_string(in.rollout_deadline.count()) + "s while its pods did not become available; rolled back to snapshot " +
                previous->configmap_name;
    return d;
  }
  d.message = "config " + short_hash(d.hash) + " of " + where + " is rolling out (" + progress +
              " pods updated/available)";
  if (stalled < in.rollout_deadline) d.check_again_in = in.rollout_deadline - stalled + std::chrono::seconds(1);
  else d.message += "; no progress for " + std::to_string(stalled.count()) + "s and no earlier snapshot to roll back to";
  return d;
}

nlohmann::json config_status(const ConfigInputs& in, const ConfigDecision& d) {
  nlohmann::json errors = nlohmann::json::array();
  nlohmann::json warnings = nlohmann::json::array();
  for (const auto& p : d.problems) (p.severity == Severity::Error ? errors : warnings).push_back(format(p));
  nlohmann::json consumers = nlohmann::json::object();
  for (const auto& c : in.consumers) {
    // In effect: what the pods run — the template's config once its rollout is
    // complete, else the last config rolled out everywhere.
    const std::string in_effect = c.rolled_out ? c.template_hash : d.record.applied_hash;
    consumers[c.name] = {{"desiredHash", d.source ? short_hash(d.source->content_hash) : ""},
                         {"inEffectHash", short_hash(in_effect)},
                         {"updated", c.updated},
                         {"available", c.available},
                         {"desired", c.desired}};
  }
  nlohmann::json status = {{"name", in.source_name},
                           {"state", std::string(to_string(d.outcome))},
                           {"message", d.message},
                           {"consumers", consumers}};
  if (!d.hash.empty()) status["hash"] = short_hash(d.hash);
  if (d.source) status["snapshot"] = d.source->configmap_name;
  if (!errors.empty()) status["errors"] = errors;
  if (!warnings.empty()) status["warnings"] = warnings;
  if (!d.record.applied_hash.empty()) status["appliedHash"] = d.record.applied_hash;
  if (!d.record.desired_hash.empty()) status["desiredHash"] = d.record.desired_hash;
  if (!d.record.progress.empty()) status["progress"] = d.record.progress;
  if (!d.record.progress_since.empty()) status["progressSince"] = d.record.progress_since;
  if (!d.record.failed_hashes.empty()) status["failedHashes"] = d.record.failed_hashes;
  if (!d.nodes_with_unknown_keys.empty()) {
    nlohmann::json first = nlohmann::json::array();
    for (std::size_t i = 0; i < d.nodes_with_unknown_keys.size() && i < 5; ++i) first.push_back(d.nodes_with_unknown_keys[i]);
    status["nodesSelectingUnknownKeys"] = {{"count", d.nodes_with_unknown_keys.size()}, {"first", first}};
  }
  return status;
}

}  // namespace cpo::clusterpolicy
