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
#include "util/file_read.hpp"

namespace cpo::cli {

namespace {

// A problem whose message already names the input file it is about.
struct InputError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The manifest of `kind` in `path`. The read error names the path itself; every
// other problem is prefixed with it.
nlohmann::json read_manifest(const std::string& path, const std::string& kind) {
  std::string text;
  try {
    text = read_input(path);
  } catch (const util::FileReadError& e) {
    throw InputError(e.what());
  }
  nlohmann::json manifest;
  try {
    manifest = apimachinery::yaml_to_json(text);
  } catch (const std::exception& e) {
    throw InputError(path + ": " + e.what());
  }
  if (!manifest.is_object() || manifest.value("kind", "") != kind) {
    throw InputError(path + ": not a " + kind + " manifest (kind: " + kind + ")");
  }
  return manifest;
}

// As the controller does: validate the ConfigMap in `path` with the plugin
// context of the ClusterPolicy, snapshot it, mount the snapshot. Returns the
// snapshot; std::nullopt (after saying why) when the operator would refuse it.
std::optional<nlohmann::json> snapshot_config(const RenderOptions& o, const clusterpolicy::ClusterPolicySpec& spec,
                                              clusterpolicy::RenderInputs& inputs) {
  const std::string& path = o.config_map_file;
  const auto data = clusterpolicy::configmap_data(read_manifest(path, "ConfigMap"));
  const auto plugin = clusterpolicy::plugin_context(inputs.cluster_policy, spec, o.device_plugin_image);
  if (plugin.warning) std::cerr << "warning: " << *plugin.warning << "\n";
  std::optional<std::string> default_key;
  if (!spec.device_plugin.config_default.empty()) default_key = spec.device_plugin.config_default;
  deviceplugin::ConfigMapResult result;
  try {
    result = deviceplugin::validate_configmap(data, default_key, {},
                                              clusterpolicy::validation_context(plugin, spec.mig_strategy),
                                              spec.device_plugin.config_name);
  } catch (const std::exception& e) {
    throw InputError(path + ": " + e.what());
  }
  for (const auto& problem : result.problems) {
    std::cerr << (problem.severity == deviceplugin::Severity::Error ? "error: " : "warning: ")
              << deviceplugin::format(problem) << "\n";
  }
  if (!result.ok()) {
    std::cerr << path << ": invalid; the operator would keep the consumers on their last good snapshot\n";
    return std::nullopt;
  }
  const clusterpolicy::ConfigContent content{data, spec.device_plugin.config_default, spec.mig_strategy};
  auto snapshot = clusterpolicy::render_snapshot(spec.device_plugin.config_name, content, o.ns, inputs.cluster_policy);
  inputs.config = clusterpolicy::ConfigSource{snapshot["metadata"]["name"], clusterpolicy::config_hash(content),
                                              content.default_key, content.mig_strategy};
  return snapshot;
}

// Prints the objects; 1 when the operator would refuse the inputs.
int render_objects(const RenderOptions& o) {
  clusterpolicy::RenderInputs inputs;
  inputs.cluster_policy = read_manifest(o.file, "ClusterPolicy");
  inputs.ns = o.ns;
  inputs.images = {o.device_plugin_image, o.gfd_image};
  inputs.runtime_class_exists = o.runtime_class_exists;
  auto spec = clusterpolicy::parse_spec(inputs.cluster_policy.value("spec", nlohmann::json::object()));
  std::vector<nlohmann::json> objects;
  if (!spec.device_plugin.config_name.empty()) {
    if (o.config_map_file.empty()) {
      std::cerr << "note: spec.devicePlugin.config.name is \"" << spec.device_plugin.config_name
                << "\"; without --config-map the ConfigMap itself is mounted and no content hash is stamped\n";
      inputs.config = clusterpolicy::ConfigSource{spec.device_plugin.config_name, ""};
    } else {
      auto snapshot = snapshot_config(o, spec, inputs);
      if (!snapshot) return 1;
      objects.push_back(std::move(*snapshot));
    }
  }
  auto rendered = clusterpolicy::render(inputs);
  for (const auto& note : rendered.notes) std::cerr << "note: " << note << "\n";
  objects.insert(objects.end(), rendered.objects.begin(), rendered.objects.end());
  std::cout << clusterpolicy::to_yaml_documents(objects);
  return 0;
}

}  // namespace

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
  try {
    return render_objects(o);
  } catch (const InputError& e) {
    std::cerr << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    // The spec and the render: both about the ClusterPolicy manifest.
    std::cerr << o.file << ": " << e.what() << "\n";
    return 1;
  }
}

}  // namespace cpo::cli
