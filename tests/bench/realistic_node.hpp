// Nodes shaped like a GPU fleet's for the benchmarks: the labels NFD and GPU
// Feature Discovery put on a GPU node (about 50) and a status of kilobytes
// (capacity, 30 images, node info), so caches and lists cost what they would.
#pragma once

#include <cstdio>
#include <string>

#include <nlohmann/json.hpp>

namespace cpo::bench {

inline nlohmann::json realistic_labels(const std::string& name, int i) {
  nlohmann::json labels = {
      {"kubernetes.io/hostname", name}, {"kubernetes.io/os", "linux"}, {"kubernetes.io/arch", "amd64"},
      {"type", "kwok"}, {"nvidia.com/gpu.present", "true"}, {"nvidia.com/gpu.product", "NVIDIA-A100-SXM4-80GB"},
      {"nvidia.com/gpu.count", "8"}, {"nvidia.com/gpu.memory", "81920"}, {"nvidia.com/gpu.family", "ampere"},
      {"nvidia.com/gpu.compute.major", "8"}, {"nvidia.com/gpu.compute.minor", "0"}, {"nvidia.com/cuda.driver.major", "550"},
      {"nvidia.com/mps.capable", "true"}, {"feature.node.kubernetes.io/pci-10de.present", "true"},
      {"topology.kubernetes.io/zone", "zone-" + std::to_string(i % 3)},
      {"node.kubernetes.io/instance-type", "p4d.24xlarge"}};
  for (int k = 0; labels.size() < 52; ++k) {
    labels["feature.node.kubernetes.io/cpu-cpuid." + std::to_string(k)] = "true";
  }
  return labels;
}

// A UUID, as kubelets report it (a bare number would not do: KWOK's node stage
// templates render it unquoted and it reads back as a number).
inline std::string system_uuid(int i) {
  char text[40];
  std::snprintf(text, sizeof text, "4c4c4544-0000-1000-8000-%012d", i);
  return text;
}

inline nlohmann::json realistic_status(int i) {
  nlohmann::json images = nlohmann::json::array();
  for (int k = 0; k < 30; ++k) {
    images.push_back({{"names", {"registry.example/team/image-" + std::to_string(k) + "@sha256:" + std::string(64, 'a' + k % 6),
                                 "registry.example/team/image-" + std::to_string(k) + ":v1." + std::to_string(k)}},
                      {"sizeBytes", 100000000 + k}});
  }
  return {{"capacity", {{"cpu", "64"}, {"memory", "512Gi"}, {"pods", "110"}, {"nvidia.com/gpu", "8"}}},
          {"allocatable", {{"cpu", "63"}, {"memory", "500Gi"}, {"pods", "110"}, {"nvidia.com/gpu", "8"}}},
          {"images", images},
          {"nodeInfo", {{"machineID", std::string(32, 'f')}, {"systemUUID", system_uuid(i)}, {"bootID", "b"},
                        {"kernelVersion", "6.1.0"}, {"osImage", "Debian GNU/Linux 12"},
                        {"containerRuntimeVersion", "containerd://1.7"}, {"kubeletVersion", "v1.37.2"},
                        {"kubeProxyVersion", "v1.37.2"}, {"operatingSystem", "linux"}, {"architecture", "amd64"}}}};
}

}  // namespace cpo::bench
