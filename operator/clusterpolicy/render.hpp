// Render: ClusterPolicy + what the controller knows about the cluster -> the exact objects
// to server-side apply. Pure: no I/O, the same inputs always give the same bytes.
//
// Only fields this operator means to own are rendered (no status, no values the API
// server would default), and nothing whose read-back form differs: an env var with an
// empty value is written as just its name, empty lists and maps are left out.
// Objects come in apply order: ServiceAccounts, ClusterRole, ClusterRoleBinding, then the
// DaemonSets (device plugin, MPS control daemon, GPU Feature Discovery).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "clusterpolicy/spec.hpp"
#include "clusterpolicy/vocabulary.hpp"

namespace cpo::clusterpolicy {

inline constexpr const char* kDevicePluginName = "nvidia-device-plugin-daemonset";
inline constexpr const char* kMpsName = "nvidia-device-plugin-mps-control-daemon";
inline constexpr const char* kGfdName = "gpu-feature-discovery";
inline constexpr const char* kDevicePluginServiceAccount = "nvidia-device-plugin";
inline constexpr const char* kGfdServiceAccount = "nvidia-gpu-feature-discovery";
// ClusterRole and ClusterRoleBinding: config-manager reads its own Node's labels.
inline constexpr const char* kConfigManagerRbacName = "nvidia-device-plugin-config-manager";

// Used when the ClusterPolicy names no image (operator flags / env DEVICE_PLUGIN_IMAGE,
// GFD_IMAGE). Empty + no image in the spec = SpecError for an enabled component.
struct OperandImages {
  std::string device_plugin;
  std::string gfd;
};
// The release NVIDIA's current GPU Operator deploys; one image holds the device
// plugin, the MPS control daemon, config-manager and GFD.
inline constexpr const char* kDefaultOperandImage = "nvcr.io/nvidia/k8s-device-plugin:v0.20.0";

// Which ConfigMap the consumers mount and the content hash stamped on the pod templates.
// The controller decides: the user's ConfigMap itself, or later an immutable snapshot.
struct ConfigSource {
  std::string configmap_name;
  std::string content_hash;  // may be empty: no annotation
  // The default key and MIG strategy validated with this config; the consumers
  // get these, not the spec's, so a rejected spec change stays off the pods.
  // Unset: the spec's (an offline render, or a snapshot that did not pin them).
  std::optional<std::string> default_key;
  std::optional<std::string> mig_strategy;
};

struct RenderInputs {
  nlohmann::json cluster_policy;  // the whole CR; metadata.name/uid feed ownerReferences
  std::string ns;                 // operator namespace
  OperandImages images;
  bool runtime_class_exists = false;  // does RuntimeClass spec.operator.runtimeClass exist?
  // Set: config-manager init container + sidecar, config volumes, CONFIG_FILE, RBAC.
  // Unset: none of that, even when the spec names a config (the controller reports why).
  std::optional<ConfigSource> config;
};

struct Rendered {
  std::vector<nlohmann::json> objects;
  // One line each, for logs, events and the render CLI, e.g.
  // "runtimeClassName omitted: RuntimeClass nvidia does not exist".
  std::vector<std::string> notes;
};

// Throws SpecError for a spec the operands cannot run with.
Rendered render(const RenderInputs& inputs);

// Every object render() can produce for namespace `ns`, whatever the spec: an object the
// operator finds (by kind/name) that the current render() lacks is to be deleted.
struct ObjectKey {
  std::string api_version, kind, ns, name;  // ns empty for cluster-scoped kinds
  bool operator==(const ObjectKey&) const = default;
};
std::vector<ObjectKey> renderable_objects(const std::string& ns);

// Each object as a YAML document introduced by "---\n" (for the render CLI and goldens).
std::string to_yaml_documents(const std::vector<nlohmann::json>& objects);

}  // namespace cpo::clusterpolicy
