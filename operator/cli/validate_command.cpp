// `clusterpolicy-operator validate`: the config validator the operator runs on
// every ConfigMap edit, offline, for CI pipelines.
#include <iostream>

#include "cli/commands.hpp"
#include "apimachinery/yaml_json.hpp"
#include "cli/parser.hpp"
#include "clusterpolicy/snapshot.hpp"
#include "deviceplugin/config.hpp"
#include "util/file_read.hpp"

namespace cpo::cli {

std::string read_input(const std::string& path) {
  return path == "-" ? util::read_stdin("") : util::read_file(path, "");
}

namespace {

// The key of the first data value that is not a string (kubectl refuses such a manifest).
const std::string* first_non_string_data(const nlohmann::json& manifest) {
  auto data = manifest.find("data");
  if (data == manifest.end() || !data->is_object()) return nullptr;
  for (auto it = data->begin(); it != data->end(); ++it) {
    if (!it->is_string()) return &it.key();
  }
  return nullptr;
}

}  // namespace

void add_validate_command(CLI::App& command, ValidateOptions& o) {
  command.footer(
      "Checks every key of a device-plugin config ConfigMap as the operator does before rolling it out.\n"
      "Exit 0 when valid; 1 with one line per problem (key: path: message) on standard output.\n"
      "Warnings go to standard error.");
  add_string(command, "-f,--filename", o.file, "the ConfigMap manifest to check (- for standard input)", "FILE");
  add_string(command, "--default", o.default_key, "the key spec.devicePlugin.config.default names", "KEY");
  add_string(command, "--mig-strategy", o.mig_strategy, "spec.mig.strategy (none, single, mixed); beats flags.migStrategy",
             "STRATEGY");
  add_string(command, "--device-plugin-version", o.plugin_version,
             "the device-plugin release the ClusterPolicy deploys, v0.17.0 ... v0.20.x",
             "VERSION");
  add_string(command, "--unknown-keys", o.unknown_keys,
             "refuse or warn: keys the plugin ignores (the ClusterPolicy annotation "
             "clusterpolicy-operator.dev/unknown-config-keys)",
             "MODE");
}

int validate_command(const ValidateOptions& o) {
  const std::string& file = o.file;
  const std::string& mig_strategy = o.mig_strategy;
  const std::string& plugin_version = o.plugin_version;
  const std::string& unknown_keys = o.unknown_keys;
  if (file.empty()) throw UsageError("validate needs -f FILE");
  if (!mig_strategy.empty() && mig_strategy != "none" && mig_strategy != "single" && mig_strategy != "mixed") {
    throw UsageError("--mig-strategy: \"" + mig_strategy + "\" is not one of none, single, mixed");
  }
  if (unknown_keys != "refuse" && unknown_keys != "warn") {
    throw UsageError("--unknown-keys: \"" + unknown_keys + "\" is not one of refuse, warn");
  }
  const auto version = deviceplugin::parse_plugin_version(plugin_version);
  if (!version || !deviceplugin::is_supported(*version)) {
    throw UsageError("--device-plugin-version: \"" + plugin_version +
                     "\" is not a release from v0.17.0 to v0.20.x (e.g. v0.19.1)");
  }

  std::map<std::string, std::string> data;
  std::string name;
  try {
    const nlohmann::json manifest = apimachinery::yaml_to_json(read_input(file));
    if (!manifest.is_object() || manifest.value("kind", nlohmann::json()) != "ConfigMap") {
      std::cout << file << ": not a ConfigMap manifest (kind: ConfigMap)\n";
      return 1;
    }
    if (const auto* bad = first_non_string_data(manifest)) {
      std::cout << file << ": data." << *bad << ": a ConfigMap's data values are strings\n";
      return 1;
    }
    data = clusterpolicy::configmap_data(manifest);
    if (auto meta = manifest.find("metadata"); meta != manifest.end() && meta->is_object()) {
      if (auto n = meta->find("name"); n != meta->end() && n->is_string()) name = n->get<std::string>();
    }
  } catch (const std::exception& e) {  // unreadable file, invalid YAML
    std::cout << file << ": " << e.what() << "\n";
    return 1;
  }

  deviceplugin::ValidationContext context;
  if (!mig_strategy.empty()) context.mig_strategy_override = mig_strategy;
  context.plugin_version = *version;
  if (unknown_keys == "warn") context.unknown_keys = deviceplugin::UnknownKeys::Warn;
  std::optional<std::string> default_opt;
  if (!o.default_key.empty()) default_opt = o.default_key;
  auto result = deviceplugin::validate_configmap(data, default_opt, {}, context, name);
  for (const auto& problem : result.problems) {
    if (problem.severity == deviceplugin::Severity::Warning) {
      std::cerr << "warning: " << deviceplugin::format(problem) << "\n";
    } else {
      std::cout << deviceplugin::format(problem) << "\n";
    }
  }
  return result.ok() ? 0 : 1;
}

}  // namespace cpo::cli
