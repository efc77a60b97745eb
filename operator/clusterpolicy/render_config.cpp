// config-manager wiring for the device-plugin config ConfigMap.
//
// config-manager-init (before the main container) and the config-manager sidecar pick
// the key named by the node's nvidia.com/device-plugin.config label (else DEFAULT_CONFIG)
// and point /config/config.yaml at /available-configs/<key>, a symlink into the ConfigMap
// volume. The main container reads CONFIG_FILE=/config/config.yaml, so it mounts both
// volumes: without /available-configs the symlink would dangle. When the chosen key
// changes, the sidecar sends SIGHUP (signal 1) to PROCESS_TO_SIGNAL, found through the
// pod's shared process namespace (or the host's, for a hostPID pod).
#include "clusterpolicy/render_detail.hpp"

namespace cpo::clusterpolicy::detail {

namespace {

constexpr const char* kConfigVolume = "config";
constexpr const char* kConfigDir = "/config";
constexpr const char* kConfigFile = "/config/config.yaml";
constexpr const char* kAvailableConfigsVolume = "available-configs";
constexpr const char* kAvailableConfigsDir = "/available-configs";

json config_mounts() {
  return json::array({volume_mount(kConfigVolume, kConfigDir),
                      volume_mount(kAvailableConfigsVolume, kAvailableConfigsDir)});
}

json config_manager_env(const RenderContext& ctx, const Operand& operand, bool sidecar) {
  json env = json::array({
      env_value("ONESHOT", sidecar ? "false" : "true"),
      env_value("KUBECONFIG", ""),  // in-cluster credentials of the pod's service account
      env_field("NODE_NAME", "spec.nodeName"),
      env_value("NODE_LABEL", kConfigNodeLabel),
      env_value("CONFIG_FILE_SRCDIR", kAvailableConfigsDir),
      env_value("CONFIG_FILE_DST", kConfigFile),
      env_value("DEFAULT_CONFIG", ctx.inputs.config->default_key.value_or(ctx.spec.device_plugin.config_default)),
      env_value("SEND_SIGNAL", sidecar ? "true" : "false"),
  });
  if (sidecar) {
    env.push_back(env_value("SIGNAL", "1"));  // SIGHUP
    env.push_back(env_value("PROCESS_TO_SIGNAL", operand.process_to_signal));
  }
  env.push_back(env_value("FALLBACK_STRATEGIES", "empty"));
  return env;
}

}  // namespace

void wire_config(const RenderContext& ctx, const Operand& operand, json& pod_spec) {
  json init = {{"name", "config-manager-init"},
               {"image", operand.image},
               {"command", json::array({"config-manager"})},
               {"env", config_manager_env(ctx, operand, false)},
               {"volumeMounts", config_mounts()}};
  // Privileged so that it may signal the main container's (privileged) process.
  json sidecar = privileged_container("config-manager", operand.image);
  sidecar["command"] = json::array({"config-manager"});
  sidecar["env"] = config_manager_env(ctx, operand, true);
  sidecar["volumeMounts"] = config_mounts();

  if (!pod_spec.contains("initContainers")) pod_spec["initContainers"] = json::array();
  pod_spec["initContainers"].push_back(std::move(init));
  pod_spec["containers"].push_back(std::move(sidecar));

  json& main = find_container(pod_spec, operand.main_container);
  set_env(main, "CONFIG_FILE", kConfigFile);
  for (const json& mount : config_mounts()) main["volumeMounts"].push_back(mount);

  pod_spec["volumes"].push_back({{"name", kConfigVolume}, {"emptyDir", json::object()}});
  pod_spec["volumes"].push_back(
      {{"name", kAvailableConfigsVolume},
       {"configMap", {{"name", ctx.inputs.config->configmap_name}}}});
  // The sidecar must see the process it signals. A hostPID pod (the MPS control daemon)
  // already does, and the API server rejects shareProcessNamespace together with hostPID.
  if (!pod_spec.value("hostPID", false)) pod_spec["shareProcessNamespace"] = true;
}

}  // namespace cpo::clusterpolicy::detail
