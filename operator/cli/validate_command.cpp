// `clusterpolicy-operator validate`: the config validator the operator runs on
// every ConfigMap edit, offline, for CI pipelines.
#include <fstream>
#include <iostream>
#include <sstream>

#include <yaml-cpp/yaml.h>

#include "cli/commands.hpp"
#include "cli/parser.hpp"
#include "deviceplugin/config.hpp"

namespace cpo::cli {

std::string read_input(const std::string& path) {
  if (path == "-") {
    std::ostringstream out;
    out << std::cin.rdbuf();
    return out.str();
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

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
    YAML::Node manifest = YAML::Load(read_input(file));
    if (!manifest.IsMap() || !manifest["kind"] || manifest["kind"].as<std::string>() != "ConfigMap") {
      std::cout << file << ": not a ConfigMap manifest (kind: ConfigMap)\n";
      return 1;
    }
    if (manifest["metadata"] && manifest["metadata"]["name"]) name = manifest["metadata"]["name"].as<std::string>();
    if (manifest["data"] && manifest["data"].IsMap()) {
      for (const auto& entry : manifest["data"]) data[entry.first.as<std::string>()] = entry.second.as<std::string>();
    }
  } catch (const YAML::Exception& e) {
    std::cout << file << ": " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {  // unreadable file
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
