#include "apimachinery/merge_patch.hpp"

namespace cpo::apimachinery {

nlohmann::json merge_patch_between(const nlohmann::json& from, const nlohmann::json& to) {
  if (!from.is_object() || !to.is_object()) return to;
  nlohmann::json patch = nlohmann::json::object();
  for (auto it = from.begin(); it != from.end(); ++it) {
    if (!to.contains(it.key())) patch[it.key()] = nullptr;
  }
  for (auto it = to.begin(); it != to.end(); ++it) {
    auto old = from.find(it.key());
    if (old == from.end()) {
      patch[it.key()] = *it;
    } else if (*old != *it) {
      patch[it.key()] = (old->is_object() && it->is_object()) ? merge_patch_between(*old, *it) : *it;
    }
  }
  return patch;
}

}  // namespace cpo::apimachinery
