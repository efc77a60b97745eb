// The NVIDIA device-plugin config format: validation of its documents (the data
// keys of the ConfigMap named by ClusterPolicy spec.devicePlugin.config.name).
//
// The device plugin, GPU Feature Discovery and the MPS control daemon parse these
// documents leniently: unknown keys vanish, wrong types fail only inside the pods.
// This validator reports, before any pod sees the config, every problem it can decide
// from the text, the ClusterPolicy and node labels, for the plugin release deployed:
//   - what makes a consumer of that release fail at start or at run time: an error;
//   - what that release accepts and applies as written: accepted, with a warning when
//     the form is unusual (yes for true, 010 for 8, a key in another case, null);
//   - keys it ignores: an error with a hint (or a warning, ValidationContext::unknown_keys);
//   - a few things it accepts but silently drops (a duplicate key, the same resource
//     twice, both sharing blocks, a second document): errors that name the reason.
//
// Contract: no I/O, no global state, thread-safe; the same inputs give the same
// problems in the same order. A domain of its own (target cpo_deviceplugin): it
// depends on yaml-cpp and knows nothing of the operator, so the `validate`
// subcommand links it alone. Passes: prescan.cpp (the raw text), parse.cpp (one YAML
// document, aliases bounded), schema.cpp with schema_table.cpp (keys and types, per
// release), rules.cpp and resources_rules.cpp (ranges and cross-field rules);
// scalars.cpp, mapping.cpp and values.cpp read values, keys and formats as the
// consumers do; config.cpp joins them. version.hpp names releases, operand_env.hpp
// the variables the operator sets.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "deviceplugin/operand_env.hpp"
#include "deviceplugin/version.hpp"

namespace cpo::deviceplugin {

enum class Severity { Error, Warning };

struct Problem {
  std::string key;      // ConfigMap data key; "" for ConfigMap-level problems
  std::string path;     // e.g. "sharing.mps.resources[0].replicas"; "" = whole document
  std::string message;  // one line
  Severity severity = Severity::Error;
  int line = 0;    // 1-based; 0 = unknown
  int column = 0;  // 1-based; 0 = unknown

  bool operator==(const Problem&) const = default;
};

// "key: path: message (line L, column C)" on one line; empty key/path parts and an
// unknown location are left out.
std::string format(const Problem& problem);
// format() prefixed with "error: " or "warning: ".
std::string format_with_severity(const Problem& problem);

// What to do with a key the deployed device-plugin release does not read (a typo, a
// key of another level, a key of a newer release): the consumers drop it silently.
enum class UnknownKeys {
  Refuse,  // an error (the default), like Kubernetes' strict field validation
  Warn,    // a warning, for a ConfigMap shared by several plugin releases
};

struct ValidationContext {
  // ClusterPolicy spec.mig.strategy; when set it wins over flags.migStrategy
  // (the operator passes it to all three consumers as MIG_STRATEGY).
  std::optional<std::string> mig_strategy_override;
  // The release the ClusterPolicy deploys (plugin_version_from_image): the rules of
  // its line apply.
  PluginVersion plugin_version = kNewestPluginVersion;
  UnknownKeys unknown_keys = UnknownKeys::Refuse;
  // The device-plugin container's environment (name -> value): a consumer variable
  // set there beats the file's flag (operand_env.hpp). Default: what the operator
  // renders with the default MPS root. Empty: the bare plugin, as NVIDIA ships it.
  std::map<std::string, std::string> plugin_env = operator_plugin_env(kDefaultMpsRoot);
};

// Limits applied before the YAML parser sees the text.
inline constexpr std::size_t kMaxDocumentBytes = 512 * 1024;
inline constexpr int kMaxNestingDepth = 64;
// Limits on YAML aliases: the nodes all aliases add when expanded, and their number.
inline constexpr std::size_t kMaxAliasNodes = 10000;
inline constexpr std::size_t kMaxAliases = 256;
// Replicas per GPU the MPS control daemon accepts.
inline constexpr int kMaxMpsReplicas = 48;
inline constexpr int kMaxMpsReplicasBelowCompute75 = 16;
// At most this many problems are listed per document.
inline constexpr std::size_t kMaxProblemsPerDocument = 100;

enum class SharingStrategy { None, TimeSlicing, Mps };

// One well-formed entry of sharing.<strategy>.resources.
struct SharedResource {
  std::string name;  // fully qualified, e.g. "nvidia.com/gpu"
  int replicas = 0;
  std::string path;  // e.g. "sharing.mps.resources[0]"
  int line = 0;      // location of its replicas value
  int column = 0;
};

// What a config makes the device plugin do, as far as later stages need it.
// Filled from the well-formed parts even when the document has errors.
struct ConfigSummary {
  // The strategy the device plugin applies: MPS wins when both blocks are set.
  SharingStrategy strategy = SharingStrategy::None;
  bool uses_mps = false;                        // strategy == Mps
  bool uses_time_slicing = false;               // strategy == TimeSlicing
  std::string mig_strategy = "none";            // effective: override, else flags.migStrategy
  bool rename_by_default = false;               // of the applied sharing block
  bool fail_requests_greater_than_one = false;  // of the applied block (MPS default true)
  std::vector<SharedResource> resources;        // of the applied sharing block
  int max_mps_replicas = 0;                     // 0 when MPS is not used
  int max_time_slicing_replicas = 0;            // 0 when time-slicing is not used
};

// "mps", "time-slicing" or "none": the value GFD writes to nvidia.com/gpu.sharing-strategy.
std::string_view sharing_strategy_label(SharingStrategy strategy);

// Replicas configured for `resource` (fully qualified) by the applied sharing block.
std::optional<int> replicas_of(const ConfigSummary& summary, std::string_view resource);

struct DocumentResult {
  std::vector<Problem> problems;  // errors and warnings, ordered by position
  ConfigSummary summary;
  bool ok() const;  // no Error
};

DocumentResult validate_document(std::string_view key, std::string_view yaml_text,
                                 const ValidationContext& context);

// The node label that selects a config key.
inline constexpr std::string_view kConfigLabel = "nvidia.com/device-plugin.config";

struct NodeSelection {
  std::string node;
  std::string selected_key;          // value of kConfigLabel; "" = no label
  std::optional<int> compute_major;  // nvidia.com/gpu.compute.major
  std::optional<int> compute_minor;  // nvidia.com/gpu.compute.minor
};

struct ConfigMapResult {
  std::vector<Problem> problems;  // ConfigMap-level first, then per key in key order
  std::map<std::string, ConfigSummary> summaries;  // per data key
  bool ok() const;                                 // no Error
};

// Validates every data key, that config.default names an existing key, that every
// labelled node names an existing key, and per-node limits (MPS replicas on GPUs below
// compute capability 7.5). `configmap_name` only appears in messages.
ConfigMapResult validate_configmap(const std::map<std::string, std::string>& data,
                                   const std::optional<std::string>& default_key,
                                   const std::vector<NodeSelection>& nodes,
                                   const ValidationContext& context,
                                   std::string_view configmap_name = {});

}  // namespace cpo::deviceplugin
