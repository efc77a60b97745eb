// Config-aware rollouts, the pure decision: given the user's ConfigMap, the
// nodes' selections, the snapshots that exist, what the consumer DaemonSets run
// and what the last reconcile recorded, decide which snapshot the consumers
// should mount, whether to create one, and what to tell the user.
//
// The rules: a config reaches pods only after it validated (the consumers would
// otherwise crash-loop or silently ignore settings); an invalid edit, a deleted
// ConfigMap or a config that failed to roll out keeps the last known good
// snapshot; a rollout that makes no progress for the deadline is rolled back to
// the previous snapshot and its hash is not retried until the content changes.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "clusterpolicy/render.hpp"
#include "clusterpolicy/snapshot.hpp"
#include "deviceplugin/config.hpp"

namespace cpo::clusterpolicy {

// One consumer DaemonSet as the cache shows it.
struct ConsumerState {
  std::string name;
  std::string template_hash;  // the config-hash annotation on its pod template ("" = none)
  bool rolled_out = false;    // every pod runs its current template and is available
  bool on_delete = false;     // updateStrategy OnDelete: pods change only when someone deletes them
  long updated = 0;
  long available = 0;
  long desired = 0;
};

// What the previous reconciles recorded in status.config.
struct RolloutRecord {
  std::string applied_hash;      // last hash fully rolled out
  std::string desired_hash;      // hash being rolled out ("" = none)
  std::string progress;          // "updated/available" sums at the last change
  std::string progress_since;    // RFC 3339: when `progress` last changed
  std::vector<std::string> failed_hashes;  // rolled back; not retried until the content changes

  static RolloutRecord from_status(const nlohmann::json& status_config);
};

struct ConfigInputs {
  std::string ns;
  std::string source_name;   // spec.devicePlugin.config.name
  std::string default_key;   // spec.devicePlugin.config.default
  std::string mig_strategy = "none";  // spec.mig.strategy: the consumers' MIG_STRATEGY
  // The device-plugin release the DaemonSets run (its image tag) and why it had to be
  // assumed, if it had; the rules of that release apply.
  deviceplugin::PluginVersion plugin_version = deviceplugin::kNewestPluginVersion;
  std::optional<std::string> plugin_version_warning;
  // The device-plugin container's environment as rendered (the operator's variables,
  // then spec.devicePlugin.env): a variable set there beats the file's flag.
  std::map<std::string, std::string> plugin_env = deviceplugin::operator_plugin_env(deviceplugin::kDefaultMpsRoot);
  // Keys the plugin ignores: refused, or (the ClusterPolicy's annotation) warned about.
  deviceplugin::UnknownKeys unknown_keys = deviceplugin::UnknownKeys::Refuse;
  std::optional<std::map<std::string, std::string>> source_data;  // std::nullopt = ConfigMap missing
  std::vector<deviceplugin::NodeSelection> nodes;
  // The snapshots this ClusterPolicy owns, of any source (config.name may have
  // changed). The keys of the one last rolled out matter: a node selecting a key
  // that vanished from the ConfigMap makes the edit invalid; a node selecting a
  // key that never existed is a mislabelled node, reported without blocking.
  std::vector<Snapshot> snapshots;
  std::vector<ConsumerState> consumers;
  RolloutRecord record;
  std::chrono::system_clock::time_point now;
  std::chrono::seconds rollout_deadline{600};
  std::string rollout_deadline_problem;  // why the ClusterPolicy's deadline annotation was ignored ("" = none)
};

enum class ConfigOutcome {
  Current,           // the valid config is rolled out everywhere
  Rolling,           // a valid config is rolling out
  Invalid,           // the ConfigMap does not validate: the last good snapshot stays
  Missing,           // the ConfigMap is gone: the last snapshot stays (or no wiring at all)
  PreviouslyFailed,  // this content was rolled back before: not retried
  RolledBack,        // this reconcile rolls back a stalled rollout
};

std::string_view to_string(ConfigOutcome outcome);

struct ConfigDecision {
  ConfigOutcome outcome = ConfigOutcome::Current;
  std::optional<ConfigSource> source;       // what the consumers mount (unset = no config wiring)
  bool create_snapshot = false;             // the snapshot of `source` must be created first
  std::string hash;                         // hash of the user's ConfigMap ("" when missing)
  std::vector<deviceplugin::Problem> problems;            // errors and warnings of the validation
  std::string message;                      // one paragraph for status and events
  RolloutRecord record;                     // to persist in status.config
  std::optional<std::chrono::seconds> check_again_in;  // rollout deadline still running
  // The config the consumers mount finished rolling out in this reconcile:
  // says which (also while the ConfigMap itself is invalid or missing).
  std::optional<std::string> rolled_out_message;
  // A stalled rollout was rolled back in this reconcile (whatever the outcome):
  // says what and why.
  std::optional<std::string> rollback_message;
  std::vector<std::string> nodes_with_unknown_keys;  // "node=key", mislabelled nodes
};

ConfigDecision decide_config(const ConfigInputs& in);

// The snapshot to fall back on: what the consumers run, unless that config
// failed before, else the last one rolled out everywhere (unset: none exists).
std::optional<ConfigSource> last_good_source(const ConfigInputs& in);

// The status.config block for a decision.
nlohmann::json config_status(const ConfigInputs& in, const ConfigDecision& decision);

}  // namespace cpo::clusterpolicy
