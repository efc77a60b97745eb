#include "clusterpolicy/apply_diff.hpp"

#include "apimachinery/quantity.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <optional>
#include <string>
#include <vector>

namespace cpo::clusterpolicy {

namespace {

bool scalars_equal(const nlohmann::json& live, const nlohmann::json& desired, bool quantity) {
  if (live == desired) return true;
  if (live.is_number() && desired.is_number()) return live.get<double>() == desired.get<double>();
  if (!quantity) return false;
  // Quantities: the API server canonicalises them ("1000m" → "1", 2 → "2").
  auto as_quantity = [](const nlohmann::json& v) -> std::optional<double> {
    if (v.is_string()) return apimachinery::quantity_value(v.get<std::string>());
    if (v.is_number()) return v.get<double>();
    return std::nullopt;
  };
  auto a = as_quantity(live);
  auto b = as_quantity(desired);
  if (a && b && (live.is_string() || desired.is_string())) {
    return std::fabs(*a - *b) <= 1e-9 * std::max(1.0, std::fabs(*b));
  }
  return false;
}

// Every item an object with a distinct string "name".
bool keyed_by_name(const nlohmann::json& list) {
  if (list.empty()) return false;
  std::vector<std::string> names;
  for (const auto& item : list) {
    if (!item.is_object() || !item.contains("name") || !item["name"].is_string()) return false;
    names.push_back(item["name"].get<std::string>());
  }
  std::sort(names.begin(), names.end());
  return std::adjacent_find(names.begin(), names.end()) == names.end();
}

// `quantities`: inside resources.limits / resources.requests, where the API
// server rewrites quantities into canonical form.
// `trail`, when given, receives the steps to the difference found.
std::string difference(const nlohmann::json& live, const nlohmann::json& desired, const std::string& path,
                       bool quantities = false, const std::string& parent_key = {},
                       std::vector<PathStep>* trail = nullptr) {
  // Records a step while a child is compared; kept only when the difference is below it.
  auto step = [trail](PathStep s) {
    if (trail) trail->push_back(std::move(s));
  };
  auto unstep = [trail](const std::string& d) {
    if (trail && d.empty()) trail->pop_back();
    return d;
  };
  if (desired.is_object()) {
    if (!live.is_object()) return path.empty() ? "(root)" : path;
    for (auto it = desired.begin(); it != desired.end(); ++it) {
      std::string child = path.empty() ? it.key() : path + "." + it.key();
      auto found = live.find(it.key());
      if (found == live.end()) {
        // An empty value we declare may be omitted by the server.
        if (it->is_null() || (it->is_object() && it->empty()) || (it->is_array() && it->empty())) continue;
        step({it.key(), nullptr, 0});
        return child;
      }
      bool child_quantities = quantities || (parent_key == "resources" && (it.key() == "limits" || it.key() == "requests"));
      step({it.key(), nullptr, 0});
      if (auto d = unstep(difference(*found, *it, child, child_quantities, it.key(), trail)); !d.empty()) return d;
    }
    return {};
  }
  if (desired.is_array()) {
    if (!live.is_array()) return path;
    if (keyed_by_name(desired)) {
      // Lists merged by name (containers, env, volumes, ports, ...): server-side
      // apply keeps the live order and appends what is new, and other managers
      // may add items; what matters is that every item we declare is there.
      for (const auto& item : desired) {
        const std::string name = item["name"].get<std::string>();
        auto found = std::find_if(live.begin(), live.end(), [&](const nlohmann::json& l) {
          return l.is_object() && l.value("name", nlohmann::json()) == item["name"];
        });
        const std::string child = path + "[name=" + name + "]";
        if (found == live.end()) {
          step({"", nullptr, 0});
          return child;
        }
        step({"", &*found, static_cast<std::size_t>(found - live.begin())});
        if (auto d = unstep(difference(*found, item, child, quantities, {}, trail)); !d.empty()) return d;
      }
      return {};
    }
    if (live.size() != desired.size()) return path;
    for (std::size_t i = 0; i < desired.size(); ++i) {
      step({"", &live[i], i});
      if (auto d = unstep(difference(live[i], desired[i], path + "[" + std::to_string(i) + "]", quantities, {}, trail));
          !d.empty()) {
        return d;
      }
    }
    return {};
  }
  return scalars_equal(live, desired, quantities) ? std::string{} : (path.empty() ? "(root)" : path);
}

}  // namespace

bool contains(const nlohmann::json& live, const nlohmann::json& desired) {
  return difference(live, desired, "").empty();
}

std::string first_difference(const nlohmann::json& live, const nlohmann::json& desired) {
  return difference(live, desired, "");
}

std::vector<PathStep> difference_path(const nlohmann::json& live, const nlohmann::json& desired) {
  std::vector<PathStep> trail;
  if (difference(live, desired, "", false, {}, &trail).empty()) trail.clear();
  return trail;
}

}  // namespace cpo::clusterpolicy

