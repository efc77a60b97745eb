#include "gpusim/shown.hpp"

#include <stdexcept>

#include <yaml-cpp/yaml.h>

namespace cpo::gpusim {

namespace {

struct Sharing {
  std::string strategy = "none";
  int replicas = 1;
  std::string resource = "nvidia.com/gpu";  // the name the shared devices are advertised under
};

std::string qualified(const std::string& name) {
  return name.find('/') == std::string::npos ? "nvidia.com/" + name : name;
}

bool is_gpu(const std::string& name) { return name == "nvidia.com/gpu" || name == "gpu"; }

// The nvidia.com/gpu entry of one sharing block (mps or timeSlicing), when it shares.
std::optional<Sharing> read_block(const YAML::Node& block, const std::string& strategy) {
  if (!block || !block.IsMap() || !block["resources"]) return std::nullopt;
  for (const auto& resource : block["resources"]) {
    if (!is_gpu(resource["name"].as<std::string>(""))) continue;
    Sharing sharing{strategy, resource["replicas"].as<int>(1)};
    const std::string rename = resource["rename"].as<std::string>("");
    if (!rename.empty()) {
      sharing.resource = qualified(rename);
    } else if (block["renameByDefault"].as<bool>(false)) {
      sharing.resource = "nvidia.com/gpu.shared";
    }
    if (sharing.replicas > 1) return sharing;
  }
  return std::nullopt;
}

Sharing read_sharing(const std::string& document) {
  YAML::Node root = YAML::Load(document);
  if (!root.IsMap()) throw std::runtime_error("the config is not a YAML mapping");
  const YAML::Node sharing = root["sharing"];
  if (!sharing) return {};
  if (auto mps = read_block(sharing["mps"], "mps")) return *mps;
  if (auto slicing = read_block(sharing["timeSlicing"], "time-slicing")) return *slicing;
  return {};
}

}  // namespace

Shown shown_for(const std::optional<std::string>& config, const NodeGpus& gpus, std::optional<int> lie_replicas) {
  Sharing sharing = config ? read_sharing(*config) : Sharing{};
  if (lie_replicas) sharing.replicas = *lie_replicas;
  const bool shared = sharing.strategy != "none";
  Shown out;
  out.labels["feature.node.kubernetes.io/pci-10de.present"] = "true";
  out.labels["nvidia.com/gpu.count"] = std::to_string(gpus.count);
  out.labels["nvidia.com/gpu.replicas"] = std::to_string(sharing.replicas);
  out.labels["nvidia.com/gpu.sharing-strategy"] = sharing.strategy;
  // Where the MPS control daemon may run (GFD writes it for an MPS config only).
  if (sharing.strategy == "mps") out.labels["nvidia.com/mps.capable"] = "true";
  const bool renamed = sharing.resource != "nvidia.com/gpu";
  out.labels["nvidia.com/gpu.product"] = gpus.product + (shared && !renamed ? "-SHARED" : "");
  // The kubelet keeps a resource no plugin advertises any more at zero.
  if (renamed) out.capacity["nvidia.com/gpu"] = "0";
  out.capacity[sharing.resource] = std::to_string(gpus.count * sharing.replicas);
  return out;
}

}  // namespace cpo::gpusim
