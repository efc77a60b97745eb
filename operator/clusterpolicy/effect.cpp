#include "clusterpolicy/effect.hpp"

#include <algorithm>

#include "clusterpolicy/vocabulary.hpp"

namespace cpo::clusterpolicy {

namespace {

constexpr const char* kSharedSuffix = "-SHARED";
constexpr const char* kGpuResource = "nvidia.com/gpu";
constexpr const char* kSharedGpuResource = "nvidia.com/gpu.shared";

std::optional<std::string> label(const nlohmann::json& node, const char* key) {
  const auto& labels = node["metadata"].value("labels", nlohmann::json::object());
  auto it = labels.find(key);
  if (it == labels.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

// A capacity entry as a whole number; std::nullopt when absent or not an integer.
std::optional<long> capacity(const nlohmann::json& node, const char* resource) {
  const auto status = node.value("status", nlohmann::json::object());
  const auto map = status.value("capacity", nlohmann::json::object());
  auto it = map.find(resource);
  if (it == map.end() || !it->is_string()) return std::nullopt;
  try {
    std::size_t used = 0;
    const long value = std::stol(it->get<std::string>(), &used);
    if (used != it->get<std::string>().size()) return std::nullopt;
    return value;
  } catch (...) {
    return std::nullopt;
  }
}

bool has_capacity_info(const nlohmann::json& node) { return node.contains("status"); }

bool ends_with(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// The capacity the node should advertise, or a difference in words ("" = agrees).
std::string capacity_difference(const nlohmann::json& node, const ExpectedSharing& want, const std::string& config) {
  if (!has_capacity_info(node)) return "";
  const auto count_text = label(node, kGpuCountLabel);
  if (!count_text) return "";
  long count = 0;
  try {
    count = std::stol(*count_text);
  } catch (...) {
    return std::string(kGpuCountLabel) + " is \"" + *count_text + "\", not a number";
  }
  const long expected = count * want.replicas;
  const char* resource = want.renamed ? kSharedGpuResource : kGpuResource;
  const auto shown = capacity(node, resource);
  const std::string says = ", config " + config + " says " + std::to_string(expected) + " (" + *count_text +
                           " GPUs x " + std::to_string(want.replicas) + ")";
  if (!shown) return std::string("capacity has no ") + resource + says;
  if (*shown != expected) return std::string("capacity ") + resource + " is " + std::to_string(*shown) + says;
  if (want.renamed) {
    const auto plain = capacity(node, kGpuResource);
    if (plain && *plain != 0) {
      return std::string("capacity ") + kGpuResource + " is " + std::to_string(*plain) + ", config " + config +
             " renames it to " + kSharedGpuResource + " (0 expected)";
    }
  } else if (const auto shared = capacity(node, kSharedGpuResource); shared && *shared != 0) {
    return std::string("capacity ") + kSharedGpuResource + " is " + std::to_string(*shared) + ", config " + config +
           " does not rename " + kGpuResource;
  }
  return "";
}

// What the node's labels and capacity say against `want`; "" when all agree.
std::string difference(const nlohmann::json& node, const ExpectedSharing& want, const std::string& config) {
  const std::string replicas = std::to_string(want.replicas);
  const auto shown_replicas = label(node, kGpuReplicasLabel);
  if (shown_replicas != replicas) {
    return std::string(kGpuReplicasLabel) + " is " + (shown_replicas ? *shown_replicas : "absent") + ", config " +
           config + " says " + replicas;
  }
  const auto strategy = label(node, kGpuSharingStrategyLabel);
  if (strategy != want.strategy) {
    return std::string(kGpuSharingStrategyLabel) + " is " + (strategy ? *strategy : "absent") + ", config " +
           config + " says " + want.strategy;
  }
  const bool shared = want.replicas > 1;
  if (const auto product = label(node, kGpuProductLabel)) {
    const bool suffixed = ends_with(*product, kSharedSuffix);
    if (shared && !want.renamed && !suffixed) {
      return std::string(kGpuProductLabel) + " is " + *product + ", config " + config + " shares it: -SHARED expected";
    }
    if ((!shared || want.renamed) && suffixed) {
      return std::string(kGpuProductLabel) + " is " + *product + ", config " + config +
             (want.renamed ? " renames the resource: no -SHARED expected" : " does not share: no -SHARED expected");
    }
  }
  return capacity_difference(node, want, config);
}

bool shows_gfd_labels(const nlohmann::json& node) {
  for (const char* key : {kGpuReplicasLabel, kGpuSharingStrategyLabel, kGpuProductLabel, kGpuCountLabel}) {
    if (label(node, key)) return true;
  }
  return false;
}

}  // namespace

std::string_view to_string(NodeEffect effect) {
  switch (effect) {
    case NodeEffect::InEffect: return "InEffect";
    case NodeEffect::Pending: return "Pending";
    case NodeEffect::Mismatched: return "Mismatched";
    case NodeEffect::Unknown: return "Unknown";
  }
  return "Unknown";
}

ExpectedSharing expected_sharing(const deviceplugin::ConfigSummary& summary) {
  ExpectedSharing out;
  const auto replicas = deviceplugin::replicas_of(summary, kGpuResource);
  if (!replicas || *replicas < 2 || summary.strategy == deviceplugin::SharingStrategy::None) return out;
  out.replicas = *replicas;
  out.strategy = std::string(deviceplugin::sharing_strategy_label(summary.strategy));
  out.renamed = summary.rename_by_default;
  return out;
}

std::size_t EffectReport::count(NodeEffect effect) const {
  auto it = counts.find(effect);
  return it == counts.end() ? 0 : it->second;
}

NodeVerdict verify_node(const EffectInputs& in, const nlohmann::json& node) {
  NodeVerdict verdict;
  verdict.node = node["metadata"].value("name", "");
  if (!shows_gfd_labels(node)) {
    verdict.difference = "no label of GPU Feature Discovery";
    return verdict;
  }
  const std::string key = label(node, kConfigNodeLabel).value_or(in.default_key);
  std::string why;
  if (key.empty()) {
    why = difference(node, ExpectedSharing{}, "(none: the empty config)");
  } else if (auto config = in.configs.find(key); config == in.configs.end()) {
    why = "selects config " + key + ", which the mounted config does not have";
  } else {
    why = difference(node, config->second, key);
  }
  if (why.empty()) {
    verdict.effect = NodeEffect::InEffect;
    return verdict;
  }
  verdict.difference = std::move(why);
  verdict.effect = NodeEffect::Pending;
  if (!in.rolled_out) return verdict;
  auto since = in.disagreeing_since.find(verdict.node);
  if (since != in.disagreeing_since.end() && in.now - since->second >= in.grace) verdict.effect = NodeEffect::Mismatched;
  return verdict;
}

EffectReport verify_effect(const EffectInputs& in) {
  EffectReport report;
  for (auto effect : {NodeEffect::InEffect, NodeEffect::Pending, NodeEffect::Mismatched, NodeEffect::Unknown}) {
    report.counts[effect] = 0;
  }
  bool any_nfd = false;
  for (const nlohmann::json* node : in.nodes) {
    ++report.gpu_nodes;
    if (label(*node, kNfdNvidiaPciLabel)) any_nfd = true;
    NodeVerdict verdict = verify_node(in, *node);
    ++report.counts[verdict.effect];
    if (verdict.effect == NodeEffect::Mismatched) report.mismatched.insert(verdict.node);
    if (in.rolled_out && (verdict.effect == NodeEffect::Pending || verdict.effect == NodeEffect::Mismatched)) {
      // The clock runs only once the rollout is complete.
      auto since = in.disagreeing_since.find(verdict.node);
      const TimePoint start = since != in.disagreeing_since.end() ? since->second : in.now;
      report.disagreeing_since[verdict.node] = start;
      if (verdict.effect == NodeEffect::Pending) {
        auto left = std::chrono::duration_cast<std::chrono::seconds>(start + in.grace - in.now) + std::chrono::seconds(1);
        if (!report.check_again || left < *report.check_again) report.check_again = left;
      }
    }
    if (verdict.effect != NodeEffect::InEffect) {
      auto& listed = report.listed[verdict.effect];
      listed.push_back(std::move(verdict));
    }
  }
  for (auto& [effect, listed] : report.listed) {
    std::sort(listed.begin(), listed.end(), [](const auto& a, const auto& b) { return a.node < b.node; });
    if (listed.size() > kListedNodes) listed.resize(kListedNodes);
  }
  report.nfd_missing = report.gpu_nodes > 0 && !any_nfd;
  return report;
}

nlohmann::json effect_status(const EffectInputs& in, const EffectReport& report) {
  const std::size_t in_effect = report.count(NodeEffect::InEffect);
  nlohmann::json block = {{"hash", in.hash},
                          {"gpuNodes", report.gpu_nodes},
                          {"inEffect", in_effect},
                          {"pending", report.count(NodeEffect::Pending)},
                          {"mismatched", report.count(NodeEffect::Mismatched)},
                          {"unknown", report.count(NodeEffect::Unknown)},
                          {"summary", std::to_string(in_effect) + "/" + std::to_string(report.gpu_nodes)}};
  if (report.all_in_effect()) block["inEffectHash"] = in.hash;
  for (const auto& [effect, listed] : report.listed) {
    nlohmann::json nodes = nlohmann::json::array();
    for (const auto& verdict : listed) nodes.push_back({{"name", verdict.node}, {"message", verdict.difference}});
    std::string field(to_string(effect));
    field[0] = static_cast<char>(field[0] - 'A' + 'a');
    block[field + "Nodes"] = std::move(nodes);
  }
  if (report.nfd_missing) {
    block["warning"] = std::string("no GPU node has the Node Feature Discovery label ") + kNfdNvidiaPciLabel +
                       ": GPU Feature Discovery publishes its labels through NFD, so without NFD the labels "
                       "this check reads (nvidia.com/gpu.replicas, ...) never appear";
  }
  return block;
}

}  // namespace cpo::clusterpolicy
