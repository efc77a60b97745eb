// The operator's operand environment and the variables that beat config flags.
#include "deviceplugin/operand_env.hpp"

namespace cpo::deviceplugin {

std::map<std::string, std::string> operator_plugin_env(std::string_view mps_root) {
  std::map<std::string, std::string> env;
  for (const EnvSetting& setting : kDevicePluginFixedEnv) {
    env.emplace(std::string(setting.name), std::string(setting.value));
  }
  env.emplace(std::string(kMpsRootEnv), std::string(mps_root));
  return env;
}

std::optional<EnvOverride> env_override(std::string_view path, int plugin_minor,
                                        const std::map<std::string, std::string>& env) {
  for (const EnvFlag& flag : kDevicePluginEnvFlags) {
    if (flag.path != path || plugin_minor < flag.since_minor) continue;
    const auto it = env.find(std::string(flag.env));
    if (it != env.end()) return EnvOverride{it->first, it->second};
  }
  return std::nullopt;
}

}  // namespace cpo::deviceplugin
