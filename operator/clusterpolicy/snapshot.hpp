// Immutable snapshots of the device-plugin config.
//
// A valid config is copied into an operator-owned ConfigMap named after its
// content hash (`<source>-<first 10 hex of sha256>`, `immutable: true`). The
// consumer DaemonSets mount the snapshot, never the user's ConfigMap, and carry
// the hash on their pod template: a new hash is a rolling update, and a bad edit
// of the user's ConfigMap can never reach a restarting pod.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace cpo::clusterpolicy {

inline constexpr const char* kSnapshotSourceLabel = "nvidia.com/device-plugin.config-source";
inline constexpr const char* kSnapshotHashLabel = "nvidia.com/device-plugin.config-hash";
inline constexpr std::size_t kSnapshotsKept = 3;

// sha256 of any text, as 64 lower-case hex digits.
std::string sha256_hex(std::string_view text);

// The value of kSnapshotSourceLabel for a source ConfigMap name: the name, cut to
// the 63 characters a label value may hold.
std::string snapshot_source_label(const std::string& source);

// sha256 (hex) of the ConfigMap data, independent of key order.
std::string content_hash(const std::map<std::string, std::string>& data);

// "<source>-<first 10 hex of the hash>", shortened so the name stays a valid
// ConfigMap name (at most 253 characters).
std::string snapshot_name(const std::string& source, const std::string& hash);

// The snapshot ConfigMap for `data`, owned by the ClusterPolicy `owner`.
nlohmann::json render_snapshot(const std::string& source, const std::map<std::string, std::string>& data,
                               const std::string& ns, const nlohmann::json& owner);

// Snapshots of one source to delete: all but the `keep` newest, never one in
// `referenced`. `snapshots` are ConfigMaps carrying kSnapshotSourceLabel.
std::vector<std::string> snapshots_to_prune(const std::vector<nlohmann::json>& snapshots,
                                            const std::vector<std::string>& referenced,
                                            std::size_t keep = kSnapshotsKept);

// The data of a ConfigMap object as a map (non-string values skipped).
std::map<std::string, std::string> configmap_data(const nlohmann::json& configmap);

}  // namespace cpo::clusterpolicy
