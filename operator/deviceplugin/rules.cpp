// The rules of a device-plugin config beyond its shape: required fields, replica
// ranges, MPS limits and prerequisites, conflicting settings, the top-level resources
// entries the consumers validate and then drop, and what they silently ignore.
// Values with a wrong type were already reported by the schema pass and are skipped.
#include "deviceplugin/detail.hpp"

#include <algorithm>
#include <map>
#include <string>

namespace cpo::deviceplugin::detail {
namespace {

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
  std::optional<Entry> fail_requests_entry;
  std::vector<SharedResource> resources;
};

// A sharing block's key: the block itself is read by a custom decoder (exact keys).
std::optional<Entry> block_entry(const YAML::Node& block, std::string_view name) {
  return find_entry(block, name, KeyMatch::Exact);
}

class RulesChecker {
 public:
  RulesChecker(Reporter& reporter, MigStrategy mig) : reporter_(reporter), mig_(std::move(mig)) {}

  BlockResult check_block(const Entry& entry, const std::string& path, bool mps);

 private:
  void check_item(const YAML::Node& item, const std::string& path, bool mps,
                  std::map<std::string, std::string>& seen, BlockResult& out);
  std::optional<std::string> check_item_name(const YAML::Node& item, const std::string& path,
                                             YAML::Mark& name_mark);
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
  if (auto e = block_entry(block, "renameByDefault")) {
    out.rename_by_default = as_bool(e->value).value_or(false);
  }
  if (auto e = block_entry(block, "failRequestsGreaterThanOne")) {
    out.fail_requests_greater_than_one = as_bool(e->value);
    out.fail_requests_entry = e;
  }
  const auto resources = block_entry(block, "resources");
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
    const std::string item_path = index_path(resources_path, i);
    if (list[i].IsMap()) {
      check_item(list[i], item_path, mps, seen, out);
    } else if (list[i].IsNull()) {
      reporter_.error(item_path, "no resource name specified (the entry is empty)",
                      value_mark(list[i], resources->key.Mark()));
    }
  }
  return out;
}

std::optional<std::string> RulesChecker::check_item_name(const YAML::Node& item,
                                                         const std::string& path,
                                                         YAML::Mark& name_mark) {
  const auto name = block_entry(item, "name");
  if (!name) {
    reporter_.error(path, "no resource name specified", item.Mark());
    return std::nullopt;
  }
  const auto raw = as_string(name->value);
  if (!raw) return std::nullopt;  // a type error, already reported
  name_mark = name->value.Mark();
  if (raw->empty()) {
    reporter_.error(path + ".name", "no resource name specified", name_mark);
    return std::nullopt;
  }
  ResourceNameCheck check = check_resource_name(*raw);
  if (check.error) {
    reporter_.error(path + ".name", *check.error, name_mark);
    return std::nullopt;
  }
  return std::move(check.full);
}

void RulesChecker::check_item(const YAML::Node& item, const std::string& path, bool mps,
                              std::map<std::string, std::string>& seen, BlockResult& out) {
  YAML::Mark name_mark = item.Mark();
  const std::optional<std::string> full_name = check_item_name(item, path, name_mark);

  std::optional<int> replicas;
  YAML::Mark replicas_mark = item.Mark();
  if (const auto entry = block_entry(item, "replicas"); !entry) {
    reporter_.error(path, "no replicas specified", item.Mark());
  } else if (const auto value = as_int(entry->value)) {
    replicas_mark = entry->value.Mark();
    if (*value < 2) {
      reporter_.error(path + ".replicas", "number of replicas must be >= 2", replicas_mark);
    } else if (mps && *value > kMaxMpsReplicas && full_name == kGpuResource) {
      reporter_.error(path + ".replicas",
                      "MPS supports at most " + std::to_string(kMaxMpsReplicas) +
                          " replicas per GPU, got " + std::to_string(*value),
                      replicas_mark);
    } else {
      replicas = value;
    }
  }

  if (const auto rename = block_entry(item, "rename")) {
    if (const auto raw = as_string(rename->value)) {
      const ResourceNameCheck check = check_resource_name(*raw);
      if (check.error) reporter_.error(path + ".rename", *check.error, rename->value.Mark());
    }
    reporter_.warning(path + ".rename",
                      "ignored by the device plugin; set renameByDefault: true to advertise " +
                          full_name.value_or("<name>") + ".shared instead",
                      rename->key.Mark());
  }
  if (const auto devices = block_entry(item, "devices")) {
    reporter_.warning(path + ".devices",
                      "ignored by the device plugin, which always shares all devices",
                      devices->key.Mark());
  }

  if (!full_name) return;
  const auto [first, inserted] = seen.emplace(*full_name, path);
  if (!inserted) {
    reporter_.error(path + ".name",
                    "resource " + quote(*full_name) + " is listed twice (first at " + first->second +
                        "): the device plugin applies one entry and drops the other",
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
    reporter_.error(path,
                    "MPS shares only nvidia.com/gpu, not " + quote(full) +
                        " (the MPS control daemon starts no daemon for it: the entry shares nothing)",
                    mark);
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

MigStrategy effective_mig_strategy(const YAML::Node& root, const ValidationContext& context) {
  std::optional<std::string> configured;
  if (const auto flags = find_entry(root, "flags", KeyMatch::Fold)) {
    if (const auto entry = find_entry(flags->value, "migStrategy", KeyMatch::Fold)) {
      configured = as_string(entry->value);
      if (configured && !is_mig_strategy(*configured)) configured.reset();
    }
  }
  const auto& override_value = context.mig_strategy_override;
  if (override_value && is_mig_strategy(*override_value)) {
    return MigStrategy{*override_value, "spec.mig.strategy"};
  }
  if (const auto env = context.plugin_env.find(std::string(kMigStrategyEnv));
      env != context.plugin_env.end() && is_mig_strategy(env->second)) {
    return MigStrategy{env->second, std::string(kMigStrategyEnv)};
  }
  if (configured) return MigStrategy{*configured, "flags.migStrategy"};
  return MigStrategy{};
}

// The MPS root the device plugin uses: MPS_ROOT when set (even to ""), else the file's.
std::string effective_mps_root(const YAML::Node& root, const ValidationContext& context) {
  if (const auto env = context.plugin_env.find(std::string(kMpsRootEnv)); env != context.plugin_env.end()) {
    return env->second;
  }
  if (const auto flags = find_entry(root, "flags", KeyMatch::Fold)) {
    if (const auto entry = find_entry(flags->value, "mpsRoot", KeyMatch::Fold)) {
      return as_string(entry->value).value_or("");
    }
  }
  return "";
}

}  // namespace

ConfigSummary check_rules(const YAML::Node& root, const ValidationContext& context,
                          Reporter& reporter) {
  ConfigSummary summary;
  if (!root.IsMap()) return summary;
  MigStrategy mig = effective_mig_strategy(root, context);
  summary.mig_strategy = mig.value;
  check_top_level_resources(root, reporter);
  check_imex(root, reporter);

  const auto sharing = find_entry(root, "sharing", KeyMatch::Fold);
  if (!sharing) return summary;
  auto time_slicing = find_entry(sharing->value, "timeSlicing", KeyMatch::Fold);
  auto mps = find_entry(sharing->value, "mps", KeyMatch::Fold);
  if (mps && mps->value.IsNull()) {
    reporter.warning(join_path("sharing", mps->key.Scalar()),
                     "is empty (null): the consumers read it as no MPS", mps->key.Mark());
    mps.reset();
  }
  if (time_slicing && mps) {
    reporter.error("sharing",
                   "timeSlicing and mps cannot both be set: the device plugin applies mps and "
                   "silently drops timeSlicing",
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
    if (effective_mps_root(root, context).empty()) {
      reporter.error("sharing.mps",
                     "using MPS requires --mps-root to be specified: set flags.mpsRoot (the "
                     "operator's DaemonSet sets MPS_ROOT)",
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
  if (summary.uses_mps && !context.plugin_version.at_least(0, 20)) {
    // Before v0.20 the plugin forces it to true for MPS, whatever the file says.
    if (applied.fail_requests_greater_than_one == false) {
      reporter.warning("sharing.mps.failRequestsGreaterThanOne",
                       "false is honoured from v0.20; device plugin " + context.plugin_version.line() +
                           " always fails MPS requests for more than one replica",
                       applied.fail_requests_entry->value.Mark());
    }
    summary.fail_requests_greater_than_one = true;
  }
  summary.resources = std::move(applied.resources);
  int max_replicas = 0;
  for (const SharedResource& resource : summary.resources) {
    max_replicas = std::max(max_replicas, resource.replicas);
  }
  (summary.uses_mps ? summary.max_mps_replicas : summary.max_time_slicing_replicas) = max_replicas;
  return summary;
}

}  // namespace cpo::deviceplugin::detail
