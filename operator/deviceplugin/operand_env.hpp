// The environment the operator gives the config's consumers, and which config flag each
// consumer variable beats. One list, shared by the render code (which sets these
// variables on the operand DaemonSets) and the validator (which warns when a file sets
// a flag that a variable overrides: a flag's variable wins whenever it is set, even
// to "").
//
// Contract: constants and pure functions, no I/O.
#pragma once

#include <array>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace cpo::deviceplugin {

struct EnvSetting {
  std::string_view name;
  std::string_view value;
};

// Set on the device-plugin container with fixed values.
inline constexpr std::array<EnvSetting, 4> kDevicePluginFixedEnv = {{
    {"PASS_DEVICE_SPECS", "true"},
    {"FAIL_ON_INIT_ERROR", "true"},
    {"DEVICE_LIST_STRATEGY", "envvar"},
    {"DEVICE_ID_STRATEGY", "uuid"},
}};
// Set on the device plugin and the MPS control daemon to spec.devicePlugin.mps.root.
inline constexpr std::string_view kMpsRootEnv = "MPS_ROOT";
inline constexpr std::string_view kDefaultMpsRoot = "/run/nvidia/mps";
// Set on all three consumers to spec.mig.strategy (ValidationContext carries it as
// mig_strategy_override).
inline constexpr std::string_view kMigStrategyEnv = "MIG_STRATEGY";

// A device-plugin variable and the config flag it beats (read by the plugin; the
// plugin release that introduced it, as major.minor).
struct EnvFlag {
  std::string_view env;
  std::string_view path;  // e.g. "flags.plugin.deviceIDStrategy"
  int since_minor = 17;   // v0.<since_minor>
};

inline constexpr std::array<EnvFlag, 18> kDevicePluginEnvFlags = {{
    {"MIG_STRATEGY", "flags.migStrategy"},
    {"FAIL_ON_INIT_ERROR", "flags.failOnInitError"},
    {"NVIDIA_DRIVER_ROOT", "flags.nvidiaDriverRoot"},
    {"NVIDIA_DEV_ROOT", "flags.nvidiaDevRoot"},
    {"PASS_DEVICE_SPECS", "flags.plugin.passDeviceSpecs"},
    {"DEVICE_LIST_STRATEGY", "flags.plugin.deviceListStrategy"},
    {"DEVICE_ID_STRATEGY", "flags.plugin.deviceIDStrategy"},
    {"GDRCOPY_ENABLED", "flags.gdrcopyEnabled", 18},
    {"GDS_ENABLED", "flags.gdsEnabled"},
    {"MOFED_ENABLED", "flags.mofedEnabled"},
    {"CDI_ANNOTATION_PREFIX", "flags.plugin.cdiAnnotationPrefix"},
    {"NVIDIA_CDI_HOOK_PATH", "flags.plugin.nvidiaCTKPath"},  // the first one set wins
    {"NVIDIA_CTK_PATH", "flags.plugin.nvidiaCTKPath"},
    {"DRIVER_ROOT_CTR_PATH", "flags.plugin.containerDriverRoot"},
    {"CONTAINER_DRIVER_ROOT", "flags.plugin.containerDriverRoot"},
    {"MPS_ROOT", "flags.mpsRoot"},
    {"DEVICE_DISCOVERY_STRATEGY", "flags.deviceDiscoveryStrategy"},
    {"SHARED_DEVICES_ALLOCATION_POLICY", "flags.plugin.sharedDevicesAllocationPolicy", 20},
}};

// The variables among kDevicePluginEnvFlags that the operator sets on the device
// plugin: the fixed ones and MPS_ROOT (MIG_STRATEGY comes from spec.mig.strategy).
std::map<std::string, std::string> operator_plugin_env(std::string_view mps_root);

struct EnvOverride {
  std::string env;
  std::string value;
};

// The variable of `env` that beats `path` in the device plugin of release
// v0.<plugin_minor>, if one is set.
std::optional<EnvOverride> env_override(std::string_view path, int plugin_minor,
                                        const std::map<std::string, std::string>& env);

}  // namespace cpo::deviceplugin
