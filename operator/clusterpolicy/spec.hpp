// A typed view of the ClusterPolicy spec fields this operator acts on (operator,
// daemonsets, devicePlugin, gfd, mig), parsed once with errors that name the field.
// Every other section of the spec is ignored here. A field that is absent or null takes
// the operator's default; a field of the wrong type or with a value the operands cannot
// use is a SpecError.
#pragma once

#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace cpo::clusterpolicy {

// what() is "<path>: <message>", e.g.
// "spec.devicePlugin.enabled: expected a boolean, got string \"yes\"".
struct SpecError : std::runtime_error {
  SpecError(std::string path, std::string message);
  std::string path;     // e.g. "spec.devicePlugin.version"
  std::string message;  // without the path
};

inline constexpr const char* kDefaultRuntimeClass = "nvidia";
inline constexpr const char* kDefaultPriorityClass = "system-node-critical";
inline constexpr const char* kDefaultMpsRoot = "/run/nvidia/mps";
// NVIDIA's CRD has no default for mig.strategy and its operator treats an absent strategy
// as "none" (its Helm chart writes "single" into the object explicitly).
inline constexpr const char* kDefaultMigStrategy = "none";

struct ImageSpec {
  std::string repository, image, version;
};

struct EnvVar {
  std::string name, value;
  bool operator==(const EnvVar&) const = default;
};

// The shape devicePlugin and gfd share.
struct ComponentSpec {
  bool enabled = true;  // absent or null = true
  ImageSpec image;
  std::string image_pull_policy;  // "" = unset (Always, IfNotPresent or Never)
  std::vector<std::string> image_pull_secrets;
  std::optional<nlohmann::json> resources;  // {limits, requests} as given; unset when empty
  std::optional<std::vector<std::string>> args;  // replaces the main container's args; [] = unset
  std::vector<EnvVar> env;                       // applied last to the main container
};

struct DevicePluginSpec : ComponentSpec {
  std::string config_name;     // spec.devicePlugin.config.name
  std::string config_default;  // spec.devicePlugin.config.default
  std::string mps_root = kDefaultMpsRoot;  // absolute, without a trailing slash
  bool host_network = false;
};

struct DaemonsetsSpec {
  std::map<std::string, std::string> labels, annotations;  // onto every pod template
  std::optional<nlohmann::json> tolerations;  // replaces the default; unset when absent or []
  std::string priority_class_name = kDefaultPriorityClass;
  std::string update_strategy = "RollingUpdate";  // or "OnDelete"
  // A positive integer or "N%" (1..100). A string of digits ("1", as NVIDIA's Helm chart
  // writes it) becomes the integer, as NVIDIA's operator reads it.
  nlohmann::json max_unavailable = 1;
};

struct OperatorSpec {
  std::string runtime_class = kDefaultRuntimeClass;
  std::map<std::string, std::string> labels, annotations;  // onto every rendered object
};

struct ClusterPolicySpec {
  OperatorSpec operator_;
  DaemonsetsSpec daemonsets;
  DevicePluginSpec device_plugin;
  ComponentSpec gfd;
  std::string mig_strategy = kDefaultMigStrategy;  // none | single | mixed
};

// `spec` is the CR's .spec (null is read as {}). Whatever the value, the only exception
// is SpecError naming the path and what was expected; its message is valid UTF-8 (a
// value is shown shortened on a character boundary, malformed UTF-8 as U+FFFD).
// Image fields are checked here for enabled components (a partial triple is an error).
ClusterPolicySpec parse_spec(const nlohmann::json& spec);

// repository/image:version, or repository/image@version when version starts with
// "sha256:"; only `image` set: that full reference; nothing set: `default_image`.
// A partial triple, or nothing set without a default, throws SpecError at `path`
// (e.g. "spec.devicePlugin").
std::string resolve_image(const ImageSpec& image, const std::string& default_image,
                          const std::string& path);

}  // namespace cpo::clusterpolicy
