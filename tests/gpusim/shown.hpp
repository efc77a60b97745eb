// What GPU Feature Discovery and the device plugin make a node show for one
// device-plugin config, read here independently of the operator's own parser
// (the simulator is the other side of the operator's effect check, so it must not
// share its reading of the config): the labels GFD writes and the capacity the
// device plugin advertises, per the user guide's "verify" section.
#pragma once

#include <map>
#include <optional>
#include <string>

namespace cpo::gpusim {

// The node's hardware, as the simulator is told it (node annotations).
struct NodeGpus {
  int count = 1;
  std::string product = "NVIDIA-A100-SXM4-40GB";
};

struct Shown {
  std::map<std::string, std::string> labels;    // nvidia.com/gpu.* and NFD's PCI label
  std::map<std::string, std::string> capacity;  // also allocatable
};

// `config`: the selected config document (std::nullopt = the plugin runs without
// one: nothing shared). `lie_replicas` replaces the config's replicas in what is
// shown, as a broken or stale plugin would. Throws std::runtime_error when the
// document cannot be read.
Shown shown_for(const std::optional<std::string>& config, const NodeGpus& gpus, std::optional<int> lie_replicas);

}  // namespace cpo::gpusim
