#include "clusterpolicy/effect_plan.hpp"

#include "clusterpolicy/observe.hpp"

#include "apimachinery/duration.hpp"
#include "clusterpolicy/plugin_context.hpp"
#include "clusterpolicy/snapshot.hpp"
#include "clusterpolicy/vocabulary.hpp"

namespace cpo::clusterpolicy {

namespace {

std::optional<std::map<std::string, std::string>> mounted_data(const ReconcileInputs& in, const ConfigInputs& config,
                                                               const ConfigDecision& decision) {
  for (const auto& cm : in.configmaps) {
    if ((*cm)["metadata"].value("name", "") == decision.source->configmap_name) return configmap_data(*cm);
  }
  // Created in this reconcile, so not cached yet: it holds the user's data.
  if (decision.create_snapshot && config.source_data) return config.source_data;
  return std::nullopt;
}

// What each key of the mounted config makes a node show.
std::map<std::string, ExpectedSharing> expected_configs(const std::map<std::string, std::string>& data,
                                                        const nlohmann::json& policy, const ClusterPolicySpec& spec,
                                                        const ReconcileInputs& in, const std::string& mig_strategy) {
  auto context = validation_context(plugin_context(policy, spec, in.images.device_plugin), mig_strategy);
  context.unknown_keys = deviceplugin::UnknownKeys::Warn;  // the mounted config was accepted: read what it says
  const auto result = deviceplugin::validate_configmap(data, std::nullopt, {}, context);
  std::map<std::string, ExpectedSharing> out;
  for (const auto& [key, summary] : result.summaries) out[key] = expected_sharing(summary);
  return out;
}

// The nodes the device plugin runs on.
std::vector<const nlohmann::json*> plugin_nodes(const ReconcileInputs& in) {
  std::vector<const nlohmann::json*> nodes;
  for (const auto& node : in.nodes) {
    const auto labels = (*node)["metadata"].value("labels", nlohmann::json::object());
    if (labels.value(kDeployDevicePluginLabel, "") == "true") nodes.push_back(node.get());
  }
  return nodes;
}

bool consumers_on(const ConfigInputs& config, const std::string& hash) {
  for (const auto& consumer : config.consumers) {
    if (consumer.template_hash != hash || !consumer.rolled_out) return false;
  }
  return !config.consumers.empty();
}

// The memory on first sight (after a restart): what the status reported.
EffectMemory remembered(const ReconcileInputs& in) {
  if (in.effect) return *in.effect;
  EffectMemory memory;
  const auto block = in.policies.front().status.value("effect", nlohmann::json::object());
  memory.in_effect_hash = block.value("inEffectHash", "");
  for (const auto& node : block.value("mismatchedNodes", nlohmann::json::array())) {
    if (node.is_object()) memory.mismatched.insert(node.value("name", ""));
  }
  return memory;
}

std::string node_list(const std::vector<NodeVerdict>& listed, std::size_t total) {
  std::string text;
  for (const auto& verdict : listed) text += (text.empty() ? "" : "; ") + verdict.node + ": " + verdict.difference;
  if (total > listed.size()) text += "; and " + std::to_string(total - listed.size()) + " more";
  return text;
}

void effect_events(const nlohmann::json& policy, const EffectInputs& inputs, const EffectReport& report,
                   const EffectMemory& last, Plan& plan) {
  std::size_t turned = 0;
  for (const auto& name : report.mismatched) turned += last.mismatched.count(name) ? 0 : 1;
  if (turned > 0) {
    const auto listed = report.listed.count(NodeEffect::Mismatched) ? report.listed.at(NodeEffect::Mismatched)
                                                                     : std::vector<NodeVerdict>{};
    plan.events.push_back({policy, EventKind::Warning, event_reason::kConfigMismatched,
                           std::to_string(report.mismatched.size()) + " GPU node(s) do not show config " + inputs.hash +
                               " " + std::to_string(inputs.grace.count()) + "s after it rolled out: " +
                               node_list(listed, report.mismatched.size())});
  }
  EffectMemory now{report.disagreeing_since, report.mismatched, last.in_effect_hash};
  if (report.all_in_effect() && inputs.hash != last.in_effect_hash) {
    now.in_effect_hash = inputs.hash;
    plan.events.push_back({policy, EventKind::Normal, event_reason::kConfigInEffect,
                           "Config " + inputs.hash + " is in effect on all " + std::to_string(report.gpu_nodes) +
                               " GPU nodes"});
  }
  plan.effect = std::move(now);
}

// Why nothing is verified, or "" when it can be.
std::string not_verified(const ClusterPolicySpec& spec, const std::string& mig_strategy) {
  if (!spec.device_plugin.enabled) return "the device plugin is disabled";
  if (!spec.gfd.enabled) return "GPU Feature Discovery is disabled: no node publishes the labels checked";
  // single: the GPUs (or their one MIG profile) are nvidia.com/gpu, labelled as
  // without MIG but for the product's -MIG-<profile> part; mixed: per-profile resources.
  if (mig_strategy == "mixed") return "not verified with MIG strategy mixed (a resource per MIG profile)";
  return "";
}

}  // namespace

GracePeriod effect_grace_period(const nlohmann::json& policy, std::chrono::seconds fallback) {
  return duration_annotation(policy, {kEffectGracePeriodAnnotation}, fallback, "effect grace period", true);
}

void plan_effect(const ReconcileInputs& in, const ClusterPolicySpec& spec, const ConfigInputs& config,
                 const ConfigDecision& decision, Plan& plan) {
  if (!decision.source) return;
  const auto& policy = in.policies.front().object;
  const std::string mig_strategy = decision.source->mig_strategy.value_or(spec.mig_strategy);
  if (const std::string why = not_verified(spec, mig_strategy); !why.empty()) {
    plan.status_inputs.extra["effect"] = {{"hash", decision.source->content_hash}, {"notVerified", why}};
    return;
  }
  const auto data = mounted_data(in, config, decision);
  if (!data) return;
  const EffectMemory last = remembered(in);
  EffectInputs inputs;
  inputs.hash = decision.source->content_hash;
  inputs.rolled_out = consumers_on(config, inputs.hash);
  inputs.configs = expected_configs(*data, policy, spec, in, mig_strategy);
  inputs.default_key = decision.source->default_key.value_or(spec.device_plugin.config_default);
  inputs.nodes = plugin_nodes(in);
  inputs.disagreeing_since = last.disagreeing_since;
  inputs.now = in.now;
  const auto grace = effect_grace_period(policy, in.effect_grace);
  inputs.grace = grace.value;
  const EffectReport report = verify_effect(inputs);
  nlohmann::json block = effect_status(inputs, report);
  if (!grace.problem.empty()) block["gracePeriodProblem"] = grace.problem;
  plan.status_inputs.extra["effect"] = std::move(block);
  plan.status_inputs.effect = report;
  plan.status_inputs.effect_config = inputs.hash;
  plan.effect_counts = report.counts;
  effect_events(policy, inputs, report, last, plan);
  if (report.check_again) {
    const auto again = std::chrono::duration_cast<std::chrono::milliseconds>(*report.check_again);
    if (!plan.check_again || again < *plan.check_again) plan.check_again = again;
  }
}

}  // namespace cpo::clusterpolicy
