// The rules of a device-plugin config beyond its shape: required fields, replica
// ranges, MPS limits, conflicting settings, and what the consumers silently ignore.
// Values with a wrong type were already reported by the schema pass and are skipped.
#include "deviceplugin/detail.hpp"

#include <algorithm>
#include <map>
#include <string>

namespace cpo::deviceplugin::detail {
namespace {

struct Entry {
  YAML::Node key;
  YAML::Node value;
};

// The first entry named `name` of a mapping (later duplicates are schema errors).
std::optional<Entry> find_entry(const YAML::Node& map, std::string_view name) {
  if (!map.IsMap()) return std::nullopt;
  for (auto it = map.begin(); it != map.end(); ++it) {
    if (it->first.IsScalar() && it->first.Scalar() == name) return Entry{it->first, it->second};
  }
  return std::nullopt;
}

bool is_mig_strategy(std::string_view value) {
  return value == "none" || value == "single" || value == "mixed";
}

struct MigStrategy {
  std::string value = "none";
  std::string source;  // where the value comes from; "" = the default
};

struct BlockResult {
  bool rename_by_default = false;
  std::optional<bool> fail_requests_greater_than_one;
  std::vector<SharedResource> resources;
};

class RulesChecker {
 public:
  RulesChecker(Reporter& reporter, MigStrategy mig) : reporter_(reporter), mig_(std::move(mig)) {}

  BlockResult check_block(const Entry& entry, const std::string& path, bool mps);

 private:
  void check_item(const YAML::Node& item, const std::string& path, bool mps,
                  std::map<std::string, std::string>& seen, BlockResult& out);
  void check_resource_kind(const std::string& full, const std::string& path, bool mps,
                           const YAML::Mark& mark);

  Reporter& reporter_;
  MigStrategy mig_;
};

BlockResult RulesChecker::check_block(const Entry& entry, const std::string& path, bool mps) {
  BlockResult out;
  const YAML::Node& block = entry.value;
  if (block.IsNull()) {
    reporter_.error(path, "no resources specified", entry.key.Mark());
    return out;
  }
  if (!block.IsMap()) return out;
  if (auto e = find_entry(block, "renameByDefault")) {
    out.rename_by_default = as_bool(e->value).value_or(false);
  }
  if (auto e = find_entry(block, "failRequestsGreaterThanOne")) {
    out.fail_requests_greater_than_one = as_bool(e->value);
  }
  const auto resources = find_entry(block, "resources");
  const std::string resources_path = path + ".resources";
  if (!resources) {
    reporter_.error(path, "no resources specified", entry.key.Mark());
    return out;
  }
  const YAML::Node& list = resources->value;
  if (list.IsNull() || (list.IsSequence() && list.size() == 0)) {
    reporter_.error(resources_path, "no resources specified",
                    value_mark(list, resources->key.Mark()));
    return out;
  }
  if (!list.IsSequence()) return out;
  std::map<std::string, std::string> seen;  // full resource name -> path of its first entry
  for (std::size_t i = 0; i < list.size(); ++i) {
    if (list[i].IsMap()) check_item(list[i], index_path(resources_path, i), mps, seen, out);
  }
  return out;
}

void RulesChecker::check_item(const YAML::Node& item, const std::string& path, bool mps,
                              std::map<std::string, std::string>& seen, BlockResult& out) {
  std::optional<std::string> full_name;
  YAML::Mark name_mark = item.Mark();
  const auto name = find_entry(item, "name");
  if (!name) {
    reporter_.error(path, "no resource name specified", item.Mark());
  } else if (const auto raw = as_string(name->value)) {
    name_mark = name->value.Mark();
    if (raw->empty()) {
      reporter_.error(path + ".name", "no resource name specified", name_mark);
    } else {
      ResourceNameCheck check = check_resource_name(*raw);
      if (check.error) {
        reporter_.error(path + ".name", *check.error, name_mark);
      } else {
        full_name = std::move(check.full);
      }
    }
  }

  std::optional<int> replicas;
  YAML::Mark replicas_mark = item.Mark();
  if (const auto entry = find_entry(item, "replicas"); !entry) {
    reporter_.error(path, "no replicas specified", item.Mark());
  } else if (const auto value = as_int(entry->value)) {
    replicas_mark = entry->value.Mark();
    if (*value < 2) {
      reporter_.error(path + ".replicas", "number of replicas must be >= 2", replicas_mark);
    } else if (mps && *value > kMaxMpsReplicas) {
      reporter_.error(path + ".replicas",
                      "MPS supports at most " + std::to_string(kMaxMpsReplicas) +
                          " replicas per GPU, got " + std::to_string(*value),
                      replicas_mark);
    } else {
      replicas = value;
    }
  }

  if (const auto rename = find_entry(item, "rename")) {
    if (const auto raw = as_string(rename->value)) {
      const ResourceNameCheck check = check_resource_name(*raw);
      if (check.error) reporter_.error(path + ".rename", *check.error, rename->value.Mark());
    }
    reporter_.warning(path + ".rename",
                      "ignored by the device plugin; set renameByDefault: true to advertise " +
                          full_name.value_or("<name>") + ".shared instead",
                      rename->key.Mark());
  }
  if (const auto devices = find_entry(item, "devices")) {
    reporter_.warning(path + ".devices",
                      "ignored by the device plugin, which always shares all devices",
                      devices->key.Mark());
  }

  if (!full_name) return;
  const auto [first, inserted] = seen.emplace(*full_name, path);
  if (!inserted) {
    reporter_.error(
        path + ".name",
        "resource " + quote(*full_name) + " is listed twice (first at " + first->second + ")",
        name_mark);
    return;
  }
  check_resource_kind(*full_name, path + ".name", mps, name_mark);
  if (replicas) {
    out.resources.push_back(SharedResource{*full_name, *replicas, path, replicas_mark.line + 1,
                                           replicas_mark.column + 1});
  }
}

void RulesChecker::check_resource_kind(const std::string& full, const std::string& path, bool mps,
                                       const YAML::Mark& mark) {
  if (full == kGpuResource) return;
  if (mps) {
    reporter_.error(path, "MPS shares only nvidia.com/gpu, not " + quote(full), mark);
  } else if (full.compare(0, kMigResourcePrefix.size(), kMigResourcePrefix) == 0) {
    if (mig_.value != "mixed") {
      reporter_.warning(path,
                        quote(full) + " is advertised only with migStrategy mixed (effective: " +
                            mig_.value + "); this entry shares nothing",
                        mark);
    }
  } else {
    reporter_.warning(
        path,
        "the device plugin never advertises " + quote(full) +
            " (only nvidia.com/gpu and nvidia.com/mig-<profile>); this entry shares nothing",
        mark);
  }
}

MigStrategy effective_mig_strategy(const YAML::Node& root, const ValidationContext& context,
                                   Reporter& reporter) {
  std::optional<Entry> configured;
  if (const auto flags = find_entry(root, "flags")) {
    configured = find_entry(flags->value, "migStrategy");
  }
  std::optional<std::string> configured_value;
  if (configured) {
    configured_value = as_string(configured->value);
    if (configured_value && !is_mig_strategy(*configured_value)) configured_value.reset();
  }
  const auto& override_value = context.mig_strategy_override;
  if (override_value && is_mig_strategy(*override_value)) {
    if (configured_value && *configured_value != *override_value) {
      reporter.warning("flags.migStrategy",
                       quote(*configured_value) +
                           " is overridden by ClusterPolicy spec.mig.strategy " +
                           quote(*override_value),
                       configured->value.Mark());
    }
    return MigStrategy{*override_value, "spec.mig.strategy"};
  }
  if (configured_value) return MigStrategy{*configured_value, "flags.migStrategy"};
  return MigStrategy{};
}

void check_imex(const YAML::Node& root, Reporter& reporter) {
  const auto imex = find_entry(root, "imex");
  if (!imex) return;
  const auto ids = find_entry(imex->value, "channelIDs");
  if (!ids || !ids->value.IsSequence()) return;
  const YAML::Node& list = ids->value;
  if (list.size() == 0) return;
  const auto first = as_int(list[0]);
  if (list.size() == 1 && first && *first == 0) return;
  for (std::size_t i = 0; i < list.size(); ++i) {
    if (!as_int(list[i])) return;  // a type error, already reported
  }
  reporter.error("imex.channelIDs", "must be [] or [0]", list.Mark());
}

}  // namespace

ConfigSummary check_rules(const YAML::Node& root, const ValidationContext& context,
                          Reporter& reporter) {
  ConfigSummary summary;
  if (!root.IsMap()) return summary;
  MigStrategy mig = effective_mig_strategy(root, context, reporter);
  summary.mig_strategy = mig.value;

  if (const auto resources = find_entry(root, "resources");
      resources && !resources->value.IsNull()) {
    reporter.warning(
        "resources",
        "ignored by the device plugin, which does not support customizing resource names",
        resources->key.Mark());
  }
  check_imex(root, reporter);

  const auto sharing = find_entry(root, "sharing");
  if (!sharing) return summary;
  const auto time_slicing = find_entry(sharing->value, "timeSlicing");
  const auto mps = find_entry(sharing->value, "mps");
  if (time_slicing && mps) {
    reporter.error("sharing", "timeSlicing and mps cannot both be set; upstream silently uses mps",
                   mps->key.Mark());
  }
  RulesChecker checker(reporter, mig);
  BlockResult applied;
  if (time_slicing) applied = checker.check_block(*time_slicing, "sharing.timeSlicing", false);
  if (mps) {
    applied = checker.check_block(*mps, "sharing.mps", true);
    if (mig.value == "mixed") {
      reporter.error("sharing.mps",
                     "using --mig-strategy=mixed is not supported with MPS (mixed is set by " +
                         mig.source + ")",
                     mps->key.Mark());
    }
    summary.strategy = SharingStrategy::Mps;
  } else if (time_slicing) {
    summary.strategy = SharingStrategy::TimeSlicing;
  }
  summary.uses_mps = summary.strategy == SharingStrategy::Mps;
  summary.uses_time_slicing = summary.strategy == SharingStrategy::TimeSlicing;
  summary.rename_by_default = applied.rename_by_default;
  summary.fail_requests_greater_than_one =
      applied.fail_requests_greater_than_one.value_or(summary.uses_mps);
  summary.resources = std::move(applied.resources);
  int max_replicas = 0;
  for (const SharedResource& resource : summary.resources) {
    max_replicas = std::max(max_replicas, resource.replicas);
  }
  (summary.uses_mps ? summary.max_mps_replicas : summary.max_time_slicing_replicas) = max_replicas;
  return summary;
}

}  // namespace cpo::deviceplugin::detail
