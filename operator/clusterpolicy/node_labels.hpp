// The node labels the operator writes: which nodes get the device plugin and GPU
// Feature Discovery. Pure: from a node's labels to the label changes to patch,
// and which label changes the ClusterPolicy reconcile reads.
#pragma once

#include <map>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "clusterpolicy/vocabulary.hpp"

namespace cpo::clusterpolicy {

using Labels = std::map<std::string, std::string>;

// A node has a GPU when nvidia.com/gpu.present=true or NFD reports an NVIDIA PCI device.
bool has_gpu(const Labels& labels);

// Label changes for one node: a value to set, or std::nullopt to remove. GPU
// nodes get the deploy labels set to "true" unless they already carry a value
// (other tools pause operands by rewriting them); nodes without a GPU, or with
// nvidia.com/gpu.deploy.operands=false, lose them. Empty when nothing changes.
std::map<std::string, std::optional<std::string>> node_label_changes(const Labels& labels);

// node_label_changes as a JSON merge patch of the Node ({"metadata":{"labels":...}},
// null removes a label); std::nullopt when nothing changes.
std::optional<nlohmann::json> node_label_patch(const Labels& labels);

// The string-valued metadata.labels of a (cached) Node.
Labels labels_of(const nlohmann::json& node);

// Whether a node's label change matters to the ClusterPolicy reconcile: whether it
// has a GPU and runs the device plugin, the config it selects, its compute
// capability, and what GPU Feature Discovery publishes about sharing (the config's
// effect). Everything else (GFD's other labels, the GFD deploy label, other tools'
// labels) is the node's own business.
bool affects_policy(const Labels& before, const Labels& after);

}  // namespace cpo::clusterpolicy
