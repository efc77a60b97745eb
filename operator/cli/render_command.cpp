// `clusterpolicy-operator render`: prints every object the operator would apply
// for a ClusterPolicy, through the same pure code the controller runs. No
// cluster needed: for reviews and GitOps pipelines.
#include <iostream>

#include "cli/commands.hpp"
#include "cli/parser.hpp"
#include "clusterpolicy/config_rollout.hpp"
#include "clusterpolicy/plugin_context.hpp"
#include "clusterpolicy/render.hpp"
#include "clusterpolicy/snapshot.hpp"
#include "clusterpolicy/spec.hpp"
#include "apimachinery/yaml_json.hpp"
#include "deviceplugin/config.hpp"

namespace cpo::cli {

void add_render_command(CLI::App& command, RenderOptions& o) {
  command.footer("Prints, as YAML, every object the operator would apply for the ClusterPolicy.");
  add_string(command, "-f,--filename", o.file, "the ClusterPolicy manifest (- for standard input)", "FILE");
  add_string(command, "--config-map", o.config_map_file,
             "the device-plugin config ConfigMap named by spec.devicePlugin.config.name", "FILE");
  add_string(command, "--namespace", o.ns, "the operator namespace", "NS");
  add_string(command, "--device-plugin-image", o.device_plugin_image, "default device-plugin image", "IMAGE")
      ->envname("DEVICE_PLUGIN_IMAGE");
  add_string(command, "--gfd-image", o.gfd_image, "default GPU Feature Discovery image", "IMAGE")->envname("GFD_IMAGE");
  add_bool(command, "--runtime-class-exists", o.runtime_class_exists,
           "render as if RuntimeClass spec.operator.runtimeClass exists");
}

int render_command(const RenderOptions& o) {
  if (o.file.empty()) throw UsageError("render needs -f FILE");
  const std::string& file = o.file;
  const std::string& config_map_file = o.config_map_file;
  const std::string& ns = o.ns;

  try {
    clusterpolicy::RenderInputs inputs;
    inputs.cluster_policy = apimachinery::yaml_to_json(read_input(file));
    if (!inputs.cluster_policy.is_object() || inputs.cluster_policy.value("kind", "") != "ClusterPolicy") {
      std::cerr << file << ": not a ClusterPolicy manifest (kind: ClusterPolicy)\n";
      return 1;
    }
    inputs.ns = ns;
    inputs.images = {o.device_plugin_image, o.gfd_image};
    inputs.runtime_class_exists = o.runtime_class_exists;
    auto spec = clusterpolicy::parse_spec(inputs.cluster_policy.value("spec", nlohmann::json::object()));
    std::vector<nlohmann::json> extra;
    if (!spec.device_plugin.config_name.empty()) {
      if (config_map_file.empty()) {
        std::cerr << "note: spec.devicePlugin.config.name is \"" << spec.device_plugin.config_name
                  << "\"; without --config-map the ConfigMap itself is mounted and no content hash is stamped\n";
        inputs.config = clusterpolicy::ConfigSource{spec.device_plugin.config_name, ""};
      } else {
        // As the controller does: validate, snapshot, mount the snapshot.
        auto cm = apimachinery::yaml_to_json(read_input(config_map_file));
        if (!cm.is_object() || cm.value("kind", "") != "ConfigMap") {
          std::cerr << config_map_file << ": not a ConfigMap manifest (kind: ConfigMap)\n";
          return 1;
        }
        auto data = clusterpolicy::configmap_data(cm);
        const auto plugin = clusterpolicy::plugin_context(inputs.cluster_policy, spec, o.device_plugin_image);
        if (plugin.warning) std::cerr << "warning: " << *plugin.warning << "\n";
        const auto context = clusterpolicy::validation_context(plugin, spec.mig_strategy);
        std::optional<std::string> default_key;
        if (!spec.device_plugin.config_default.empty()) default_key = spec.device_plugin.config_default;
        auto result = deviceplugin::validate_configmap(data, default_key, {}, context, spec.device_plugin.config_name);
        for (const auto& problem : result.problems) {
          std::cerr << (problem.severity == deviceplugin::Severity::Error ? "error: " : "warning: ")
                    << deviceplugin::format(problem) << "\n";
        }
        if (!result.ok()) {
          std::cerr << config_map_file << ": invalid; the operator would keep the consumers on their last good snapshot\n";
          return 1;
        }
        const clusterpolicy::ConfigContent content{data, spec.device_plugin.config_default, spec.mig_strategy};
        auto snapshot = clusterpolicy::render_snapshot(spec.device_plugin.config_name, content, ns, inputs.cluster_policy);
        inputs.config = clusterpolicy::ConfigSource{snapshot["metadata"]["name"], clusterpolicy::config_hash(content),
                                                    content.default_key, content.mig_strategy};
        extra.push_back(std::move(snapshot));
      }
    }
    auto rendered = clusterpolicy::render(inputs);
    for (const auto& note : rendered.notes) std::cerr << "note: " << note << "\n";
    extra.insert(extra.end(), rendered.objects.begin(), rendered.objects.end());
    std::cout << clusterpolicy::to_yaml_documents(extra);
    return 0;
  } catch (const std::exception& e) {
    std::cerr << file << ": " << e.what() << "\n";
    return 1;
  }
}

}  // namespace cpo::cli
