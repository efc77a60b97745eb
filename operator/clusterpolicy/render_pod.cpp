// The parts every operand DaemonSet shares: env and volume helpers, and the finishing
// steps that apply the ClusterPolicy's component and daemonsets settings.
#include <algorithm>
#include <stdexcept>

#include "clusterpolicy/render_detail.hpp"

namespace cpo::clusterpolicy::detail {

namespace {

constexpr const char* kDefaultImagePullPolicy = "IfNotPresent";

json default_tolerations() {
  return json::array(
      {{{"key", "nvidia.com/gpu"}, {"operator", "Exists"}, {"effect", "NoSchedule"}}});
}

// Every container, init containers first.
template <class F>
void for_each_container(json& pod_spec, F&& f) {
  for (const char* list : {"initContainers", "containers"}) {
    if (!pod_spec.contains(list)) continue;
    for (json& container : pod_spec[list]) f(container);
  }
}

void apply_component(const Operand& operand, json& pod_spec) {
  const ComponentSpec& component = operand.component;
  const std::string pull_policy =
      component.image_pull_policy.empty() ? kDefaultImagePullPolicy : component.image_pull_policy;
  for_each_container(pod_spec, [&](json& container) {
    container["imagePullPolicy"] = pull_policy;
    if (component.resources) container["resources"] = *component.resources;
  });

  json& main = find_container(pod_spec, operand.main_container);
  if (component.args) main["args"] = *component.args;
  for (const EnvVar& env : component.env) set_env(main, env.name, env.value);

  json secrets = json::array();
  std::vector<std::string> seen;
  for (const std::string& name : component.image_pull_secrets) {
    if (name.empty() || std::find(seen.begin(), seen.end(), name) != seen.end()) continue;
    seen.push_back(name);
    secrets.push_back({{"name", name}});
  }
  if (!secrets.empty()) pod_spec["imagePullSecrets"] = std::move(secrets);
}

void apply_scheduling(const RenderContext& ctx, const Operand& operand, json& pod_spec) {
  const DaemonsetsSpec& daemonsets = ctx.spec.daemonsets;
  pod_spec["serviceAccountName"] = operand.service_account;
  pod_spec["nodeSelector"] = operand.node_selector;
  pod_spec["tolerations"] = daemonsets.tolerations.value_or(default_tolerations());
  pod_spec["priorityClassName"] = daemonsets.priority_class_name;
  if (ctx.inputs.runtime_class_exists) {
    pod_spec["runtimeClassName"] = ctx.spec.operator_.runtime_class;
  }
}

json template_metadata(const RenderContext& ctx, const Operand& operand) {
  json labels = json::object();
  for (const auto& [key, value] : ctx.spec.daemonsets.labels) labels[key] = value;
  labels["app"] = operand.name;  // the selector's label: never overridden

  json annotations = json::object();
  for (const auto& [key, value] : ctx.spec.daemonsets.annotations) annotations[key] = value;
  if (ctx.inputs.config && !ctx.inputs.config->content_hash.empty()) {
    annotations[kConfigHashAnnotation] = ctx.inputs.config->content_hash;
  }

  json metadata = {{"labels", std::move(labels)}};
  if (!annotations.empty()) metadata["annotations"] = std::move(annotations);
  return metadata;
}

json update_strategy(const DaemonsetsSpec& daemonsets) {
  if (daemonsets.update_strategy == "OnDelete") return {{"type", "OnDelete"}};
  return {{"type", "RollingUpdate"},
          {"rollingUpdate", {{"maxUnavailable", daemonsets.max_unavailable}}}};
}

}  // namespace

json env_value(const std::string& name, const std::string& value) {
  // The API server drops an empty value; leaving it out keeps the read-back identical.
  if (value.empty()) return {{"name", name}};
  return {{"name", name}, {"value", value}};
}

json env_field(const std::string& name, const std::string& field_path) {
  return {{"name", name}, {"valueFrom", {{"fieldRef", {{"fieldPath", field_path}}}}}};
}

void set_env(json& container, const std::string& name, const std::string& value) {
  json& env = container["env"];
  if (env.is_null()) env = json::array();
  for (json& entry : env) {
    if (entry["name"] == name) {
      entry = env_value(name, value);
      return;
    }
  }
  env.push_back(env_value(name, value));
}

json volume_mount(const std::string& name, const std::string& path) {
  return {{"name", name}, {"mountPath", path}};
}

json host_path_volume(const std::string& name, const std::string& path, const std::string& type) {
  json host_path = {{"path", path}};
  if (!type.empty()) host_path["type"] = type;
  return {{"name", name}, {"hostPath", std::move(host_path)}};
}

json privileged_container(const std::string& name, const std::string& image) {
  return {{"name", name}, {"image", image}, {"securityContext", {{"privileged", true}}}};
}

json& find_container(json& pod_spec, const std::string& name) {
  for (json& container : pod_spec["containers"]) {
    if (container["name"] == name) return container;
  }
  throw std::logic_error("render: no container " + name);
}

json finish_daemonset(const RenderContext& ctx, const Operand& operand, json pod_spec) {
  const std::string& mig_strategy = ctx.inputs.config && ctx.inputs.config->mig_strategy
                                         ? *ctx.inputs.config->mig_strategy
                                         : ctx.spec.mig_strategy;
  json& main = find_container(pod_spec, operand.main_container);
  set_env(main, "MIG_STRATEGY", mig_strategy);
  if (mig_strategy != "none") set_env(main, "NVIDIA_MIG_MONITOR_DEVICES", "all");

  if (ctx.inputs.config) wire_config(ctx, operand, pod_spec);
  apply_component(operand, pod_spec);  // after the operator's env: the user's env wins
  apply_scheduling(ctx, operand, pod_spec);

  const json app = {{"app", operand.name}};
  return {{"apiVersion", "apps/v1"},
          {"kind", "DaemonSet"},
          {"metadata", object_metadata(ctx, operand.name, true, operand.name)},
          {"spec",
           {{"selector", {{"matchLabels", app}}},
            {"template",
             {{"metadata", template_metadata(ctx, operand)}, {"spec", std::move(pod_spec)}}},
            {"updateStrategy", update_strategy(ctx.spec.daemonsets)}}}};
}

}  // namespace cpo::clusterpolicy::detail
