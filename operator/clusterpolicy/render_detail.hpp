// Building blocks shared by the render_*.cpp files. Not part of the public API.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "clusterpolicy/render.hpp"
#include "clusterpolicy/spec.hpp"

namespace cpo::clusterpolicy::detail {

using json = nlohmann::json;

// Everything the object builders need, resolved once per render().
struct RenderContext {
  const RenderInputs& inputs;
  const ClusterPolicySpec& spec;
  std::string device_plugin_image;  // resolved; empty when the device plugin is disabled
  std::string gfd_image;            // resolved; empty when GFD is disabled
  json owner_references;            // [the ClusterPolicy], or null when it has no uid
  std::vector<std::string>& notes;
};

// ---- render_metadata.cpp -------------------------------------------------------------

// name, namespace (when namespaced), labels (ours + spec.operator.labels, plus
// app=<app> when given), annotations (spec.operator.annotations), ownerReferences.
json object_metadata(const RenderContext& ctx, const std::string& name, bool namespaced,
                     const std::string& app = "");

// ---- render_rbac.cpp -----------------------------------------------------------------

// ServiceAccounts of the enabled operands, then (when config-manager runs) the ClusterRole
// and ClusterRoleBinding that let it read Nodes.
void render_rbac(const RenderContext& ctx, std::vector<json>& out);

// ---- render_pod.cpp ------------------------------------------------------------------

json env_value(const std::string& name, const std::string& value);
json env_field(const std::string& name, const std::string& field_path);
// Replaces the entry called `name` in place (value or valueFrom alike), else appends.
void set_env(json& container, const std::string& name, const std::string& value);
json volume_mount(const std::string& name, const std::string& path);
json host_path_volume(const std::string& name, const std::string& path,
                      const std::string& type = "");
json privileged_container(const std::string& name, const std::string& image);

// One operand DaemonSet under construction.
struct Operand {
  std::string name;  // DaemonSet name and `app` label
  const ComponentSpec& component;
  std::string image;
  std::string service_account;
  json node_selector;
  std::string main_container;     // the container that args/env/CONFIG_FILE go to
  std::string process_to_signal;  // config-manager's PROCESS_TO_SIGNAL
};

json& find_container(json& pod_spec, const std::string& name);

// Turns an operand's pod spec (containers, init containers, volumes) into its DaemonSet:
// MIG env, config wiring, the component's pull policy/resources/args/env, pod scheduling
// settings, pod template metadata, selector and update strategy.
json finish_daemonset(const RenderContext& ctx, const Operand& operand, json pod_spec);

// ---- render_config.cpp ---------------------------------------------------------------

// config-manager init container + sidecar, the config volumes and mounts, CONFIG_FILE on
// the main container, shareProcessNamespace unless hostPID. Only called when inputs.config
// is set.
void wire_config(const RenderContext& ctx, const Operand& operand, json& pod_spec);

// ---- render_daemonsets.cpp -----------------------------------------------------------

json device_plugin_daemonset(const RenderContext& ctx);
json mps_control_daemon_daemonset(const RenderContext& ctx);
json gfd_daemonset(const RenderContext& ctx);

}  // namespace cpo::clusterpolicy::detail
