// The operator's subcommands: each one's options as typed values, the function that
// registers them (flags, defaults, environment fallbacks, help) on its CLI11
// subcommand, and the function that runs it once the command line is parsed.
//
// Contract: a command returns the process exit status: 0 success, 1 failure (or,
// for validate, an invalid config); it throws UsageError (exit 2) for a mistake on
// the command line that parsing alone cannot see.
#pragma once

#include <chrono>
#include <string>

#include <CLI/CLI.hpp>

#include "clusterpolicy/render.hpp"
#include "deviceplugin/version.hpp"

namespace cpo::cli {

struct RunOptions {
  std::string kubeconfig;  // "" = $KUBECONFIG, the in-cluster service account, ~/.kube/config
  std::string ns;          // "" = the in-cluster namespace, else $OPERATOR_NAMESPACE
  bool leader_elect = false;
  std::string lease_namespace;  // "" = ns
  std::string lease_name = "clusterpolicy-operator-leader";
  std::string health_address = ":8081";
  std::string metrics_address = ":8443";
  bool metrics_secure = true;
  std::string metrics_cert_dir;
  std::chrono::seconds metrics_cert_reload_interval{10};
  std::string log_format = "text";
  std::string log_level = "info";
  // When the ClusterPolicy names none; $DEVICE_PLUGIN_IMAGE / $GFD_IMAGE beat the default.
  std::string device_plugin_image = clusterpolicy::kDefaultOperandImage;
  std::string gfd_image = clusterpolicy::kDefaultOperandImage;
  std::chrono::seconds graceful_shutdown{30};
  std::chrono::seconds rollout_deadline{600};
  std::chrono::seconds effect_grace{120};
  std::chrono::seconds conflict_quiet{300};
  int node_label_concurrency = 16;  // node label PATCHes in flight at most
};
void add_run_command(CLI::App& command, RunOptions& options);
int run_command(const RunOptions& options);

struct RenderOptions {
  std::string file;
  std::string config_map_file;
  std::string ns = "gpu-operator";
  std::string device_plugin_image = clusterpolicy::kDefaultOperandImage;
  std::string gfd_image = clusterpolicy::kDefaultOperandImage;
  bool runtime_class_exists = true;
};
void add_render_command(CLI::App& command, RenderOptions& options);
int render_command(const RenderOptions& options);

struct ValidateOptions {
  std::string file;
  std::string default_key;
  std::string mig_strategy;
  std::string plugin_version = deviceplugin::kNewestPluginVersion.str();
  std::string unknown_keys = "refuse";  // or "warn"
};
void add_validate_command(CLI::App& command, ValidateOptions& options);
int validate_command(const ValidateOptions& options);

// Reads a whole file ("-" = standard input), at most 4 MiB (util::read_file). Throws
// util::FileReadError naming the file.
std::string read_input(const std::string& path);

}  // namespace cpo::cli
