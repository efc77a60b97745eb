#include "gpusim/simulator.hpp"

#include <iostream>
#include <set>
#include <stdexcept>

#include "apimachinery/duration.hpp"
#include "gpusim/shown.hpp"

namespace cpo::gpusim {

using json = nlohmann::json;

namespace {

constexpr const char* kSelectionLabel = "nvidia.com/device-plugin.config";
constexpr const char* kConfigsVolume = "available-configs";

std::string annotation(const json& object, const std::string& knob) {
  const json annotations = object["metadata"].value("annotations", json::object());
  return annotations.value(kAnnotationPrefix + knob, "");
}

bool ready(const json& pod) {
  for (const auto& c : pod.value("status", json::object()).value("conditions", json::array())) {
    if (c.value("type", "") == "Ready") return c.value("status", "") == "True";
  }
  return false;
}

// The config-manager's DEFAULT_CONFIG, from whichever container carries it.
std::string default_key(const json& pod) {
  for (const char* list : {"initContainers", "containers"}) {
    for (const auto& container : pod["spec"].value(list, json::array())) {
      for (const auto& env : container.value("env", json::array())) {
        if (env.value("name", "") == "DEFAULT_CONFIG") return env.value("value", "");
      }
    }
  }
  return "";
}

std::string mounted_configmap(const json& pod) {
  for (const auto& volume : pod["spec"].value("volumes", json::array())) {
    if (volume.value("name", "") == kConfigsVolume && volume.contains("configMap")) {
      return volume["configMap"].value("name", "");
    }
  }
  return "";
}

NodeGpus gpus_of(const json& node) {
  NodeGpus gpus;
  if (const auto count = annotation(node, "gpus"); !count.empty()) gpus.count = std::stoi(count);
  if (const auto product = annotation(node, "product"); !product.empty()) gpus.product = product;
  return gpus;
}

// True when every entry of `want` is in `have` with the same value.
bool holds(const json& have, const std::map<std::string, std::string>& want) {
  for (const auto& [key, value] : want) {
    if (!have.contains(key) || have[key] != value) return false;
  }
  return true;
}

}  // namespace

Simulator::Simulator(kube::Client& client, Options options) : client_(client), options_(std::move(options)) {}

int Simulator::step(Clock::time_point now) {
  const json pods = client_.list(kube::resources::pods, options_.ns, {.label_selector = options_.pod_selector});
  std::set<std::string> running;
  int written = 0;
  for (const auto& pod : pods["items"]) {
    const std::string node_name = pod["spec"].value("nodeName", "");
    if (node_name.empty() || !ready(pod) || pod["metadata"].contains("deletionTimestamp")) continue;
    auto node = client_.find(kube::resources::nodes, {"", node_name, ""});
    if (!node || annotation(*node, "absent") == "true") continue;
    running.insert(node_name);
    try {
      written += sync_node(pod, *node, now);
    } catch (const std::exception& e) {
      std::cerr << "gpu-sim: node " << node_name << ": " << e.what() << std::endl;
    }
  }
  std::erase_if(seen_, [&](const auto& entry) { return !running.contains(entry.first); });
  return written;
}

int Simulator::sync_node(const json& pod, const json& node, Clock::time_point now) {
  const json labels = node["metadata"].value("labels", json::object());
  const std::string key = labels.value(kSelectionLabel, default_key(pod));
  const std::string configmap = mounted_configmap(pod);
  const std::string lie = annotation(node, "lie-replicas");
  const std::string state = pod["metadata"].value("uid", "") + "|" + configmap + "|" + key + "|" + lie + "|" +
                            annotation(node, "gpus") + "|" + annotation(node, "product");
  const std::string name = node["metadata"]["name"];
  auto& seen = seen_[name];
  if (seen.state != state) seen = {state, now};
  const std::string lag = annotation(node, "lag");
  const auto delay = lag.empty() ? options_.delay : std::chrono::milliseconds(apimachinery::parse_duration(lag));
  if (now - seen.since < delay) return 0;

  // No key (no label, no DEFAULT_CONFIG): config-manager's "empty" fallback, an
  // unshared plugin. A key the ConfigMap lacks: config-manager fails, nothing starts.
  std::optional<std::string> document;
  if (!configmap.empty() && !key.empty()) {
    document = config_document(configmap, key);
    if (!document) return 0;
  }
  const Shown shown =
      shown_for(document, gpus_of(node), lie.empty() ? std::nullopt : std::optional<int>(std::stoi(lie)));
  const json status = node.value("status", json::object());
  if (holds(labels, shown.labels) && holds(status.value("capacity", json::object()), shown.capacity) &&
      holds(status.value("allocatable", json::object()), shown.capacity)) {
    return 0;
  }
  write(node, shown);
  std::cout << "gpu-sim: node " << name << " shows config " << (configmap.empty() ? "(none)" : configmap + "/" + key)
            << ": replicas " << shown.labels.at("nvidia.com/gpu.replicas") << std::endl;
  return 1;
}

std::optional<std::string> Simulator::config_document(const std::string& configmap, const std::string& key) {
  auto cm = client_.find(kube::resources::configmaps, {options_.ns, configmap, ""});
  if (!cm) return std::nullopt;
  const json data = cm->value("data", json::object());
  if (!data.contains(key)) return std::nullopt;
  return data[key].get<std::string>();
}

void Simulator::write(const json& node, const Shown& shown) {
  const std::string name = node["metadata"]["name"];
  client_.apply(kube::resources::nodes,
                {{"apiVersion", "v1"}, {"kind", "Node"}, {"metadata", {{"name", name}, {"labels", shown.labels}}}},
                "gpu-feature-discovery");
  client_.apply(kube::resources::nodes,
                {{"apiVersion", "v1"},
                 {"kind", "Node"},
                 {"metadata", {{"name", name}}},
                 {"status", {{"capacity", shown.capacity}, {"allocatable", shown.capacity}}}},
                "nvidia-device-plugin", true, "status");
}

}  // namespace cpo::gpusim
