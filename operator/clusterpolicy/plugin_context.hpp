// What the config validator must know of the device plugin a ClusterPolicy
// deploys, read from the ClusterPolicy alone (pure): the plugin release its image
// names, the environment its DaemonSet sets, and how strict to be about keys the
// plugin does not read. The controller and `render --config-map` both validate
// with it, so the offline render refuses exactly what the operator refuses.
#pragma once

#include <map>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "clusterpolicy/spec.hpp"
#include "deviceplugin/config.hpp"

namespace cpo::clusterpolicy {

struct PluginContext {
  deviceplugin::PluginVersion version = deviceplugin::kNewestPluginVersion;
  // Why the release had to be assumed, or why the unknown-keys annotation was ignored.
  std::optional<std::string> warning;
  std::map<std::string, std::string> env;  // the operator's variables, then spec.devicePlugin.env
  deviceplugin::UnknownKeys unknown_keys = deviceplugin::UnknownKeys::Refuse;
};

// `default_image`: the device-plugin image used when the spec names none. An
// image the spec cannot resolve leaves the newest rules (the render reports it).
PluginContext plugin_context(const nlohmann::json& policy, const ClusterPolicySpec& spec,
                             const std::string& default_image);

// The validation context the consumers' settings imply: the plugin context and
// spec.mig.strategy, which the consumers' MIG_STRATEGY makes beat the file.
deviceplugin::ValidationContext validation_context(const PluginContext& plugin, const std::string& mig_strategy);

}  // namespace cpo::clusterpolicy
