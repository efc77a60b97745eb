// A simulated device plugin + GPU Feature Discovery for KWOK clusters, which
// run no real pods: when a node's device-plugin pod is Ready, after a delay,
// the simulator writes what the real pair would on that node — GFD's labels
// (through server-side apply, as field manager gpu-feature-discovery) and the
// device plugin's capacity and allocatable (the Node's status, as
// nvidia-device-plugin) — from the config key the node selects in the ConfigMap
// the pod mounts, exactly as the pod's config-manager picks it: the node's
// nvidia.com/device-plugin.config label, else the pod's DEFAULT_CONFIG.
//
// Told per node by annotations (prefix gpu-sim.clusterpolicy-operator.dev/):
//   gpus: N          physical GPUs (default 1)
//   product: NAME    the product label before any -SHARED (default NVIDIA-A100-SXM4-40GB)
//   lag: DURATION    wait this long after the pod is Ready on a config (default: --delay)
//   lie-replicas: N  show N replicas whatever the config says (a broken plugin)
//   absent: "true"   no GFD nor device plugin on this node: write nothing
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "kube/client.hpp"

namespace cpo::gpusim {

inline constexpr const char* kAnnotationPrefix = "gpu-sim.clusterpolicy-operator.dev/";

struct Options {
  std::string ns = "gpu-operator";  // where the device-plugin pods run
  std::string pod_selector = "app=nvidia-device-plugin-daemonset";
  std::chrono::milliseconds delay{std::chrono::seconds(1)};
};

class Simulator {
 public:
  using Clock = std::chrono::steady_clock;

  Simulator(kube::Client& client, Options options);

  // One pass over the device-plugin pods: writes what each node should show
  // now, where it shows something else. Returns the number of nodes written.
  int step(Clock::time_point now);

 private:
  struct Seen {
    std::string state;  // what the node's pod runs: pod, config, selected key, knobs
    Clock::time_point since;
  };
  int sync_node(const nlohmann::json& pod, const nlohmann::json& node, Clock::time_point now);
  std::optional<std::string> config_document(const std::string& configmap, const std::string& key);
  void write(const nlohmann::json& node, const struct Shown& shown);

  kube::Client& client_;
  Options options_;
  std::map<std::string, Seen> seen_;  // by node
};

}  // namespace cpo::gpusim
