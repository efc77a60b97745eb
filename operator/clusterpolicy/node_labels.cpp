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

}  // namespace cpo::clusterpolicy
