#include "clusterpolicy/plan_config.hpp"

#include "apimachinery/rfc3339.hpp"
#include "clusterpolicy/observe.hpp"
#include "clusterpolicy/plugin_context.hpp"
#include "clusterpolicy/vocabulary.hpp"

namespace cpo::clusterpolicy {

namespace {

std::optional<int> label_int(const nlohmann::json& labels, const char* key) {
  auto it = labels.find(key);
  if (it == labels.end() || !it->is_string()) return std::nullopt;
  try {
    return std::stoi(it->get<std::string>());
  } catch (...) {
    return std::nullopt;
  }
}

const nlohmann::json* find_named(const std::vector<Cached>& objects, const std::string& name) {
  for (const auto& object : objects) {
    if ((*object)["metadata"].value("name", "") == name) return object.get();
  }
  return nullptr;
}

const nlohmann::json* find_owned(const ReconcileInputs& in, const std::string& kind, const std::string& key) {
  for (const auto& owned : in.owned) {
    if (owned.kind == kind && key_of(*owned.object) == key) return owned.object.get();
  }
  return nullptr;
}

void add_nodes(const ReconcileInputs& in, ConfigInputs& config) {
  for (const auto& node : in.nodes) {
    const auto& labels = (*node)["metadata"]["labels"];
    deviceplugin::NodeSelection selection;
    selection.node = (*node)["metadata"].value("name", "");
    selection.selected_key = labels.value(kConfigNodeLabel, "");
    selection.compute_major = label_int(labels, kComputeMajorLabel);
    selection.compute_minor = label_int(labels, kComputeMinorLabel);
    if (!selection.selected_key.empty() || selection.compute_major) config.nodes.push_back(std::move(selection));
  }
}

// The last report: remembered, or (first sight, e.g. after a restart) what the status says.
ConfigReport last_report(const ReconcileInputs& in) {
  if (in.reported) return *in.reported;
  const nlohmann::json previous = in.policies.front().status.value("config", nlohmann::json::object());
  return {previous.value("state", ""), previous.value("hash", ""),
          previous.value("nodesSelectingUnknownKeys", nlohmann::json::object())};
}

void add_event(Plan& plan, const nlohmann::json& target, EventKind kind, const char* reason, const std::string& message) {
  plan.events.push_back({target, kind, reason, message});
}

// The Events of an outcome, on the ClusterPolicy and the user's ConfigMap (when it exists).
void outcome_events(const nlohmann::json& policy, const nlohmann::json* source, const nlohmann::json& block,
                    const ConfigDecision& decision, bool changed, Plan& plan) {
  switch (decision.outcome) {
    case ConfigOutcome::Invalid: {
      std::string all;
      for (const auto& line : block.value("errors", nlohmann::json::array())) all += "\n" + line.get<std::string>();
      plan.status_inputs.failure = Failure{reason::kConfigInvalid, decision.message};
      if (!changed) break;
      add_event(plan, policy, EventKind::Warning, event_reason::kConfigInvalid, decision.message + all);
      if (source) add_event(plan, *source, EventKind::Warning, event_reason::kConfigInvalid, decision.message + all);
      plan.count_rejection = true;
      break;
    }
    case ConfigOutcome::Missing:
      plan.status_inputs.failure = Failure{reason::kConfigMissing, decision.message};
      if (changed) add_event(plan, policy, EventKind::Warning, event_reason::kConfigMissing, decision.message);
      break;
    case ConfigOutcome::RolledBack:
    case ConfigOutcome::PreviouslyFailed:
      plan.status_inputs.failure = Failure{reason::kRolloutFailed, decision.message};
      break;
    case ConfigOutcome::Rolling:
      plan.status_inputs.config_rolling = true;
      if (changed) add_event(plan, policy, EventKind::Normal, event_reason::kConfigRollingOut, decision.message);
      break;
    case ConfigOutcome::Current:
      break;
  }
}

}  // namespace

ConfigInputs config_inputs(const ReconcileInputs& in, const nlohmann::json& policy, const ClusterPolicySpec& spec) {
  ConfigInputs config;
  config.ns = in.ns;
  config.source_name = spec.device_plugin.config_name;
  config.default_key = spec.device_plugin.config_default;
  config.mig_strategy = spec.mig_strategy;  // the consumers' MIG_STRATEGY env beats the file
  const auto plugin = plugin_context(policy, spec, in.images.device_plugin);
  config.plugin_version = plugin.version;
  config.plugin_version_warning = plugin.warning;
  config.plugin_env = plugin.env;
  config.unknown_keys = plugin.unknown_keys;
  config.now = in.now;
  const auto deadline = rollout_deadline(policy, in.rollout_deadline);
  config.rollout_deadline = deadline.value;
  config.rollout_deadline_problem = deadline.problem;
  if (const auto* source = find_named(in.configmaps, config.source_name)) config.source_data = configmap_data(*source);
  add_nodes(in, config);
  config.record = in.record ? *in.record
                            : RolloutRecord::from_status(policy.value("status", nlohmann::json::object())
                                                             .value("config", nlohmann::json::object()));
  // Snapshots this ClusterPolicy owns, of any source: after a change of
  // config.name the consumers still mount one of the previous source.
  const std::string uid = policy["metadata"].value("uid", "");
  for (const auto& cm : in.configmaps) {
    if (owner_uid(*cm) != uid) continue;
    if (auto snapshot = read_snapshot(*cm)) config.snapshots.push_back(std::move(*snapshot));
  }
  std::vector<std::string> consumers;
  if (spec.device_plugin.enabled) consumers = {kDevicePluginName, kMpsName};
  if (spec.gfd.enabled) consumers.push_back(kGfdName);
  for (const auto& name : consumers) {
    config.consumers.push_back(consumer_state(name, find_owned(in, "DaemonSet", in.ns + "/" + name)));
  }
  return config;
}

void plan_config_report(const ReconcileInputs& in, const ConfigInputs& config, const ConfigDecision& decision,
                        Plan& plan) {
  const nlohmann::json& policy = in.policies.front().object;
  const nlohmann::json block = config_status(config, decision);
  plan.status_inputs.extra["config"] = block;
  const ConfigReport last = last_report(in);
  ConfigReport now{block.value("state", ""), block.value("hash", ""),
                   block.value("nodesSelectingUnknownKeys", nlohmann::json::object())};
  const bool changed = now.state != last.state || now.hash != last.hash;
  const bool unknown_nodes_changed = now.unknown_nodes != last.unknown_nodes;
  plan.reported = now;
  plan.config_source = config.source_name;

  const nlohmann::json* source = find_named(in.configmaps, config.source_name);
  outcome_events(policy, source, block, decision, changed, plan);
  if (decision.rollback_message) {
    plan.count_rollback = true;
    add_event(plan, policy, EventKind::Warning, event_reason::kRolloutFailed, *decision.rollback_message);
    if (source) add_event(plan, *source, EventKind::Warning, event_reason::kRolloutFailed, *decision.rollback_message);
  }
  if (decision.rolled_out_message) {
    add_event(plan, policy, EventKind::Normal, event_reason::kConfigRolledOut, *decision.rolled_out_message);
    if (source) add_event(plan, *source, EventKind::Normal, event_reason::kConfigRolledOut, *decision.rolled_out_message);
  }
  if (!decision.nodes_with_unknown_keys.empty() && unknown_nodes_changed) {
    std::string list;
    for (const auto& n : decision.nodes_with_unknown_keys) list += (list.empty() ? "" : ", ") + n;
    add_event(plan, policy, EventKind::Warning, event_reason::kNodeSelectsUnknownConfig,
              "nodes label " + std::string(kConfigNodeLabel) + " with a key ConfigMap " + config.source_name +
                  " does not have; their config-manager will fail: " + list);
  }
}

std::vector<std::string> snapshots_pruned(const ConfigInputs& config, const ConfigDecision& decision) {
  // Keep the newest snapshots (rollback targets, of any source) and every one a
  // consumer still mounts or the record points at; delete the rest.
  std::vector<std::string> referenced;
  auto reference_hash = [&](const std::string& hash) {
    for (const auto& snapshot : config.snapshots) {
      if (!hash.empty() && snapshot.hash == hash) referenced.push_back(snapshot.name);
    }
  };
  if (decision.source) referenced.push_back(decision.source->configmap_name);
  for (const auto& consumer : config.consumers) reference_hash(consumer.template_hash);
  reference_hash(decision.record.applied_hash);
  reference_hash(decision.record.desired_hash);
  std::vector<Snapshot> snapshots = config.snapshots;
  if (decision.create_snapshot && decision.source) {
    // Created in this reconcile, so not in the cache yet: it is the newest.
    snapshots.push_back({decision.source->configmap_name, decision.source->content_hash, std::nullopt,
                         std::nullopt, {}, apimachinery::rfc3339(config.now)});
  }
  return snapshots_to_prune(snapshots, referenced);
}

nlohmann::json config_condition(const ConfigDecision& decision, const StatusInputs& status) {
  bool valid = decision.outcome == ConfigOutcome::Current || decision.outcome == ConfigOutcome::Rolling;
  const char* why = valid ? reason::kValid
                    : decision.outcome == ConfigOutcome::Invalid ? reason::kConfigInvalid
                    : decision.outcome == ConfigOutcome::Missing ? reason::kConfigMissing
                                                                 : reason::kRolloutFailed;
  return make_condition(condition::kConfigValid, valid, why, decision.message, status.generation, status.previous,
                        apimachinery::rfc3339(status.now));
}

}  // namespace cpo::clusterpolicy
