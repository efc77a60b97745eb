#include "clusterpolicy/node_labels.hpp"

namespace cpo::clusterpolicy {

namespace {
bool is_true(const Labels& labels, const char* key) {
  auto it = labels.find(key);
  return it != labels.end() && it->second == "true";
}
}  // namespace

bool has_gpu(const Labels& labels) { return is_true(labels, kGpuPresentLabel) || is_true(labels, kNfdNvidiaPciLabel); }

std::map<std::string, std::optional<std::string>> node_label_changes(const Labels& labels) {
  std::map<std::string, std::optional<std::string>> changes;
  auto operands = labels.find(kDeployOperandsLabel);
  bool wanted = has_gpu(labels) && !(operands != labels.end() && operands->second == "false");
  for (const char* key : {kDeployDevicePluginLabel, kDeployGfdLabel}) {
    bool present = labels.count(key) != 0;
    if (wanted && !present) changes[key] = "true";
    if (!wanted && present) changes[key] = std::nullopt;
  }
  return changes;
}

std::optional<nlohmann::json> node_label_patch(const Labels& labels) {
  auto changes = node_label_changes(labels);
  if (changes.empty()) return std::nullopt;
  nlohmann::json patch = nlohmann::json::object();
  for (const auto& [key, value] : changes) patch[key] = value ? nlohmann::json(*value) : nlohmann::json(nullptr);
  return nlohmann::json{{"metadata", {{"labels", std::move(patch)}}}};
}

Labels labels_of(const nlohmann::json& node) {
  Labels labels;
  auto meta = node.find("metadata");
  if (meta == node.end() || !meta->is_object()) return labels;
  auto cached = meta->find("labels");
  if (cached == meta->end() || !cached->is_object()) return labels;
  for (auto it = cached->begin(); it != cached->end(); ++it) {
    if (it->is_string()) labels[it.key()] = it->get<std::string>();
  }
  return labels;
}

bool affects_policy(const Labels& before, const Labels& after) {
  if (has_gpu(before) != has_gpu(after)) return true;
  for (const char* key : {kConfigNodeLabel, kComputeMajorLabel, kComputeMinorLabel, kDeployDevicePluginLabel,
                          kGpuCountLabel, kGpuReplicasLabel, kGpuSharingStrategyLabel, kGpuProductLabel}) {
    auto b = before.find(key);
    auto a = after.find(key);
    const bool b_has = b != before.end(), a_has = a != after.end();
    if (b_has != a_has || (b_has && b->second != a->second)) return true;
  }
  return false;
}

}  // namespace cpo::clusterpolicy
