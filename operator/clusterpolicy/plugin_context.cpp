#include "clusterpolicy/plugin_context.hpp"

#include "clusterpolicy/vocabulary.hpp"
#include "deviceplugin/operand_env.hpp"
#include "deviceplugin/version.hpp"

namespace cpo::clusterpolicy {

namespace {

void append_warning(std::optional<std::string>& warning, const std::string& text) {
  warning = warning ? *warning + "; " + text : text;
}

}  // namespace

PluginContext plugin_context(const nlohmann::json& policy, const ClusterPolicySpec& spec,
                             const std::string& default_image) {
  PluginContext out;
  try {
    const auto image = resolve_image(spec.device_plugin.image, default_image, "spec.devicePlugin");
    auto version = deviceplugin::plugin_version_from_image(image);
    out.version = version.version;
    out.warning = version.warning;  // names the image already
  } catch (const SpecError&) {
    // The render step reports the image problem; validate by the newest rules meanwhile.
  }
  out.env = deviceplugin::operator_plugin_env(spec.device_plugin.mps_root);
  for (const auto& var : spec.device_plugin.env) out.env[var.name] = var.value;  // the user's env wins

  const auto meta = policy.value("metadata", nlohmann::json::object());
  const auto annotations = meta.value("annotations", nlohmann::json::object());
  const auto found = annotations.find(kUnknownConfigKeysAnnotation);
  const std::string mode = found != annotations.end() && found->is_string() ? found->get<std::string>() : "";
  if (mode == "warn") out.unknown_keys = deviceplugin::UnknownKeys::Warn;
  if (!mode.empty() && mode != "warn" && mode != "refuse") {
    append_warning(out.warning, "annotation " + std::string(kUnknownConfigKeysAnnotation) + "=\"" + mode +
                                    "\" ignored (expected refuse or warn): unknown keys are refused");
  }
  return out;
}

deviceplugin::ValidationContext validation_context(const PluginContext& plugin, const std::string& mig_strategy) {
  deviceplugin::ValidationContext context;
  context.mig_strategy_override = mig_strategy;
  context.plugin_version = plugin.version;
  context.plugin_env = plugin.env;
  context.unknown_keys = plugin.unknown_keys;
  return context;
}

}  // namespace cpo::clusterpolicy
