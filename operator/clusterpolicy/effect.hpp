// Effect verification, pure: whether the config the consumers mount is actually
// in effect on each GPU node, judged from what the node shows — the labels GPU
// Feature Discovery writes and the capacity the device plugin advertises — against
// what the config the node selects implies:
//   nvidia.com/gpu.replicas          = the replicas of nvidia.com/gpu (1 unshared)
//   nvidia.com/gpu.sharing-strategy  = mps | time-slicing | none
//   nvidia.com/gpu.product           ends in -SHARED exactly when shared and not renamed
//   capacity nvidia.com/gpu          = gpu.count x replicas (0 when renamed)
//   capacity nvidia.com/gpu.shared   = gpu.count x replicas when renameByDefault is true
//
// A node is InEffect when all agree; Pending while the consumers have not finished
// rolling the config out, or for a grace period after they have (the labels and the
// capacity follow the pods by seconds); Mismatched when they still disagree after
// it; Unknown when it shows none of GFD's labels. The grace clock of a node starts
// when the rollout is complete or the node starts disagreeing, whichever is later
// (remembered between reconciles in `disagreeing_since`, which holds only running
// clocks; a restart starts them anew).
//
// "The consumers have finished" is judged per DaemonSet (every pod updated and
// available), not per pod: once it holds, every node's pods run the config.
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "deviceplugin/config.hpp"

namespace cpo::clusterpolicy {

enum class NodeEffect { InEffect, Pending, Mismatched, Unknown };

std::string_view to_string(NodeEffect effect);

// What one config key makes a node show.
struct ExpectedSharing {
  int replicas = 1;
  std::string strategy = "none";  // the nvidia.com/gpu.sharing-strategy value
  bool renamed = false;           // renameByDefault: nvidia.com/gpu.shared is advertised
};

ExpectedSharing expected_sharing(const deviceplugin::ConfigSummary& summary);

using TimePoint = std::chrono::system_clock::time_point;

struct EffectInputs {
  std::string hash;          // the config hash the consumers mount
  bool rolled_out = false;   // every consumer runs `hash` on every pod, available
  std::map<std::string, ExpectedSharing> configs;  // by key, of the mounted config
  std::string default_key;   // the key a node without the selection label gets ("" = empty config)
  // The nodes the device plugin runs on (slim cached Nodes: metadata.name,
  // metadata.labels, and status.capacity's nvidia.com/* entries when known).
  std::vector<const nlohmann::json*> nodes;
  std::map<std::string, TimePoint> disagreeing_since;  // from the previous reconcile
  TimePoint now;
  std::chrono::seconds grace{120};
};

struct NodeVerdict {
  std::string node;
  NodeEffect effect = NodeEffect::Unknown;
  std::string difference;  // "" when InEffect
};

struct EffectReport {
  std::size_t gpu_nodes = 0;
  std::map<NodeEffect, std::size_t> counts;           // every state present, possibly 0
  std::map<NodeEffect, std::vector<NodeVerdict>> listed;  // the first few per non-good state, by name
  std::set<std::string> mismatched;                    // every Mismatched node
  std::map<std::string, TimePoint> disagreeing_since;  // to remember for the next reconcile
  std::optional<std::chrono::seconds> check_again;     // the next grace expiry
  bool nfd_missing = false;  // no GPU node has a feature.node.kubernetes.io/ label
  std::size_t count(NodeEffect effect) const;
  bool all_in_effect() const { return gpu_nodes > 0 && count(NodeEffect::InEffect) == gpu_nodes; }
};

// At most this many node names are listed per state.
inline constexpr std::size_t kListedNodes = 5;

// One node: what it shows against what its config implies.
NodeVerdict verify_node(const EffectInputs& in, const nlohmann::json& node);

EffectReport verify_effect(const EffectInputs& in);

// The status.effect block: counts, "inEffect/gpuNodes" for kubectl, the listed
// nodes with their differences, the hash and (when fully in effect) inEffectHash.
nlohmann::json effect_status(const EffectInputs& in, const EffectReport& report);

}  // namespace cpo::clusterpolicy
