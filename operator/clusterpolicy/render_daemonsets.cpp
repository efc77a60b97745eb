// The three operand layouts. Each function lays out its own containers and volumes;
// finish_daemonset() adds what they share (MIG env, config wiring, the user's component
// settings, scheduling, update strategy).
//
// The GPU driver is preinstalled on the nodes and reached through the nvidia
// RuntimeClass, so the pods carry no driver-installation handshake: no toolkit/validator
// init container and no /run/nvidia/validations, /run/nvidia/driver (/driver-root), host
// root (/host) or /var/run/cdi mounts. With DEVICE_LIST_STRATEGY=envvar the device plugin
// needs only the kubelet's device-plugins directory and the MPS directories.
#include "clusterpolicy/node_labels.hpp"
#include "clusterpolicy/render_detail.hpp"
#include "deviceplugin/operand_env.hpp"

namespace cpo::clusterpolicy::detail {

namespace {

constexpr const char* kFeaturesDir = "/etc/kubernetes/node-feature-discovery/features.d";
constexpr const char* kDmiDir = "/sys/class/dmi/id";

std::string mps_shm_path(const std::string& mps_root) {
  return (mps_root == "/" ? "" : mps_root) + "/shm";
}

// The host's MPS root (pipes, logs) and its shm directory, which the MPS control
// daemon's mount-shm step turns into a tmpfs shared with the device plugin.
json mps_volumes(const std::string& mps_root) {
  return json::array({host_path_volume("mps-root", mps_root, "DirectoryOrCreate"),
                      host_path_volume("mps-shm", mps_shm_path(mps_root))});
}

json mps_mounts() {
  return json::array({volume_mount("mps-shm", "/dev/shm"), volume_mount("mps-root", "/mps")});
}

}  // namespace

json device_plugin_daemonset(const RenderContext& ctx) {
  const DevicePluginSpec& spec = ctx.spec.device_plugin;
  const Operand operand{kDevicePluginName,
                        spec,
                        ctx.device_plugin_image,
                        kDevicePluginServiceAccount,
                        {{kDeployDevicePluginLabel, "true"}},
                        "nvidia-device-plugin",
                        "nvidia-device-plugin"};

  // No command: the image's entrypoint is the nvidia-device-plugin binary, and
  // spec.devicePlugin.args become its arguments.
  json main = privileged_container("nvidia-device-plugin", operand.image);
  // The fixed variables come from the list the validator reads (a file flag they beat
  // is reported there).
  main["env"] = json::array();
  for (const auto& fixed : deviceplugin::kDevicePluginFixedEnv) {
    main["env"].push_back(env_value(std::string(fixed.name), std::string(fixed.value)));
  }
  for (json entry : {
      env_value("NVIDIA_VISIBLE_DEVICES", "all"),
      env_value("NVIDIA_DRIVER_CAPABILITIES", "all"),
      env_value(std::string(deviceplugin::kMpsRootEnv), spec.mps_root),  // host path the plugin hands to workloads
  }) {
    main["env"].push_back(std::move(entry));
  }
  json mounts = json::array({volume_mount("device-plugin", "/var/lib/kubelet/device-plugins")});
  for (const json& mount : mps_mounts()) mounts.push_back(mount);  // /dev/shm: MPS health checks
  main["volumeMounts"] = std::move(mounts);

  json volumes = json::array({host_path_volume("device-plugin", "/var/lib/kubelet/device-plugins")});
  for (const json& volume : mps_volumes(spec.mps_root)) volumes.push_back(volume);

  json pod_spec = {{"containers", json::array({std::move(main)})}, {"volumes", std::move(volumes)}};
  if (spec.host_network) pod_spec["hostNetwork"] = true;
  return finish_daemonset(ctx, operand, std::move(pod_spec));
}

json mps_control_daemon_daemonset(const RenderContext& ctx) {
  const DevicePluginSpec& spec = ctx.spec.device_plugin;
  const Operand operand{kMpsName,
                        spec,
                        ctx.device_plugin_image,
                        kDevicePluginServiceAccount,
                        {{kDeployDevicePluginLabel, "true"}, {kMpsCapableLabel, "true"}},
                        "mps-control-daemon-ctr",
                        "/usr/bin/mps-control-daemon"};

  // Mounts a tmpfs on <mps root>/shm; Bidirectional so the host (and with it the device
  // plugin's /dev/shm) sees that mount.
  json mount_shm = privileged_container("mps-control-daemon-mounts", operand.image);
  mount_shm["command"] = json::array({"mps-control-daemon", "mount-shm"});
  json root_mount = volume_mount("mps-root", "/mps");
  root_mount["mountPropagation"] = "Bidirectional";
  mount_shm["volumeMounts"] = json::array({std::move(root_mount)});

  json main = privileged_container("mps-control-daemon-ctr", operand.image);
  main["command"] = json::array({"mps-control-daemon"});
  main["env"] = json::array({
      env_field("NODE_NAME", "spec.nodeName"),
      env_value("NVIDIA_VISIBLE_DEVICES", "all"),
      env_value("NVIDIA_DRIVER_CAPABILITIES", "compute,utility"),
      env_value("MPS_ROOT", spec.mps_root),
  });
  main["volumeMounts"] = mps_mounts();

  json pod_spec = {{"hostPID", true},
                   {"initContainers", json::array({std::move(mount_shm)})},
                   {"containers", json::array({std::move(main)})},
                   {"volumes", mps_volumes(spec.mps_root)}};
  return finish_daemonset(ctx, operand, std::move(pod_spec));
}

json gfd_daemonset(const RenderContext& ctx) {
  const Operand operand{kGfdName,
                        ctx.spec.gfd,
                        ctx.gfd_image,
                        kGfdServiceAccount,
                        {{kDeployGfdLabel, "true"}},
                        "gpu-feature-discovery",
                        "gpu-feature-discovery"};

  // GFD writes its labels as node-feature-discovery feature files; NFD turns them into
  // node labels. DirectoryOrCreate: GFD can start before NFD has created the directory.
  json main = privileged_container("gpu-feature-discovery", operand.image);
  main["command"] = json::array({"gpu-feature-discovery"});
  main["env"] = json::array({
      env_field("NAMESPACE", "metadata.namespace"),
      env_field("NODE_NAME", "spec.nodeName"),
  });
  json dmi_mount = volume_mount("dmi-info-dir", kDmiDir);
  dmi_mount["readOnly"] = true;
  main["volumeMounts"] = json::array({volume_mount("output-dir", kFeaturesDir), std::move(dmi_mount)});

  json pod_spec = {{"containers", json::array({std::move(main)})},
                   {"volumes", json::array({host_path_volume("output-dir", kFeaturesDir,
                                                             "DirectoryOrCreate"),
                                            host_path_volume("dmi-info-dir", kDmiDir)})}};
  return finish_daemonset(ctx, operand, std::move(pod_spec));
}

}  // namespace cpo::clusterpolicy::detail
