// Immutable snapshots of the device-plugin config.
//
// A valid config is copied into an operator-owned ConfigMap named after the hash
// of its content (data, default key, MIG strategy) (`<source>-<first 10 hex of sha256>`, `immutable: true`). The
// consumer DaemonSets mount the snapshot, never the user's ConfigMap, and carry
// the hash on their pod template: a new hash is a rolling update, and a bad edit
// of the user's ConfigMap can never reach a restarting pod.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "clusterpolicy/vocabulary.hpp"

namespace cpo::clusterpolicy {

inline constexpr std::size_t kSnapshotsKept = 3;

// The value of kSnapshotSourceLabel for a source ConfigMap name: the name, cut to
// the 63 characters a label value may hold.
std::string snapshot_source_label(const std::string& source);

// What a snapshot pins: the ConfigMap data, and the two settings it was
// validated with (spec.devicePlugin.config.default and the effective MIG
// strategy), so that a change of either rolls like an edit and a rejected one
// never reaches the pods.
struct ConfigContent {
  std::map<std::string, std::string> data;
  std::string default_key;
  std::string mig_strategy;
};

// sha256 (hex) of the content, independent of key order.
std::string config_hash(const ConfigContent& content);

// A snapshot as read back from the cluster.
struct Snapshot {
  std::string name;
  std::string hash;                         // config_hash of what it pins
  std::optional<std::string> default_key;   // unset: written by a version that did not pin it
  std::optional<std::string> mig_strategy;
  std::set<std::string> keys;
  std::string created;                      // creationTimestamp
};

// The snapshot a ConfigMap is (std::nullopt: not a snapshot, or no hash on it).
// Snapshots written by release 0.1.0 under the legacy keys are read alike.
std::optional<Snapshot> read_snapshot(const nlohmann::json& configmap);

// "<source>-<first 10 hex of the hash>", shortened so the name stays a valid
// ConfigMap name (at most 253 characters).
std::string snapshot_name(const std::string& source, const std::string& hash);

// The snapshot ConfigMap for `content` of the ConfigMap `source`, owned by the
// ClusterPolicy `owner`.
nlohmann::json render_snapshot(const std::string& source, const ConfigContent& content, const std::string& ns,
                               const nlohmann::json& owner);

// Snapshots to delete: all but the `keep` newest, never one in `referenced`.
std::vector<std::string> snapshots_to_prune(const std::vector<Snapshot>& snapshots,
                                            const std::vector<std::string>& referenced,
                                            std::size_t keep = kSnapshotsKept);

// The data of a ConfigMap object as a map (non-string values skipped).
std::map<std::string, std::string> configmap_data(const nlohmann::json& configmap);

}  // namespace cpo::clusterpolicy
