// The config tests' environment: CRD, namespace, the chart's RBAC, two GPU nodes, the
// operator under the chart's identity, and what the tests read back (the hash every
// consumer carries, the config status, conditions, snapshots, Events).
#pragma once

#include <catch2/catch.hpp>

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "clusterpolicy/render.hpp"
#include "clusterpolicy/snapshot.hpp"
#include "clusterpolicy/vocabulary.hpp"
#include "kube/client.hpp"
#include "support/operator_process.hpp"
#include "support/test_cluster.hpp"

namespace cpo::testing::config {

using json = nlohmann::json;

inline const std::string kNs = "gpu-operator";
inline const std::vector<std::string> kConsumers = {"nvidia-device-plugin-daemonset", "nvidia-device-plugin-mps-control-daemon",
                                             "gpu-feature-discovery"};
inline const std::string kHashAnnotation = clusterpolicy::kConfigHashAnnotation;

inline std::string repo(const std::string& path) { return std::string(CPO_SOURCE_DIR) + "/" + path; }

inline std::string mps_doc(int replicas) {
  return "version: v1\nsharing:\n  mps:\n    resources:\n    - name: nvidia.com/gpu\n      replicas: " +
         std::to_string(replicas) + "\n";
}

// The hash of a config with the default key the tests use and no MIG strategy.
inline std::string hash_of(const std::map<std::string, std::string>& data) {
  return clusterpolicy::config_hash({data, "mps-any", "none"});
}

struct ConfigEnvironment {
  const TestCluster& cluster = TestCluster::get();
  kube::Client admin{cluster.admin_config()};
  std::unique_ptr<testing::OperatorProcess> op;

  // `start`: the operator runs from the start; a test that prepares the cluster
  // first calls start() itself.
  explicit ConfigEnvironment(bool start_operator = true) {
    kubectl("apply -f " + repo("crds/nvidia.com_clusterpolicies.yaml"));
    REQUIRE(cluster.kubectl("wait --for=condition=Established crd/clusterpolicies.nvidia.com --timeout=30s").exit_code == 0);
    if (!admin.find(kube::resources::namespaces, {"", kNs, ""})) {
      admin.create(kube::resources::namespaces, {{"metadata", {{"name", kNs}}}});
    }
    testing::grant_chart_rbac(cluster, kNs, "gpu-operator", "gpu-operator");
    for (const auto& [name, labels] : std::vector<std::pair<std::string, std::string>>{
             {"gpu-node-1", "nvidia.com/gpu.present=true nvidia.com/mps.capable=true"},
             {"gpu-node-2", "nvidia.com/gpu.present=true"}}) {
      if (!admin.find(kube::resources::nodes, {"", name, ""})) REQUIRE(cluster.harness("add-node", name + " " + labels).exit_code == 0);
    }
    reset();
    if (start_operator) start();
  }
  // The operator's kubeconfig: the chart's identity, straight to the API server
  // unless a test points it elsewhere (a proxy).
  std::filesystem::path operator_kubeconfig = cluster.identity_kubeconfig("gpu-operator", "gpu-operator");
  void start(std::vector<std::string> extra_args = {}) {
    extra_args.insert(extra_args.begin(), "--rollout-deadline=10m");
    op = std::make_unique<testing::OperatorProcess>(cluster, operator_kubeconfig, kNs, extra_args);
  }
  ~ConfigEnvironment() {
    if (op) op->stop();
    cluster.harness("heal-pods");
    reset();
  }
  void reset() {
    cluster.kubectl("delete clusterpolicies.nvidia.com --all --wait=true --timeout=60s");
    cluster.kubectl("-n " + kNs + " delete configmap mps-config-all mps-config-fine mps-config-renamed --ignore-not-found");
    cluster.kubectl("label node gpu-node-1 gpu-node-2 nvidia.com/device-plugin.config-");
    REQUIRE(testing::eventually([&] {
      return admin.list(kube::resources::daemonsets, kNs)["items"].empty() &&
             admin.list(kube::resources::configmaps, kNs,
                        kube::ListOptions{.label_selector = clusterpolicy::kSnapshotSourceLabel})["items"].empty() &&
             admin.list(kube::resources::configmaps, kNs,
                        kube::ListOptions{.label_selector = clusterpolicy::legacy::kSnapshotSourceLabel})["items"].empty();
    }, std::chrono::seconds(60)));
    // The DaemonSets are gone; their pods go when the garbage collector gets to
    // them, which after an API server restart (the fault tests) can take minutes.
    // The next test's simulated device plugin must not see the last test's pods.
    cluster.kubectl("-n " + kNs + " delete pods --all --wait=false");
    REQUIRE(testing::eventually([&] {
      const json pods = admin.list(kube::resources::pods, kNs);
      for (const auto& pod : pods["items"]) {
        if (!pod["metadata"].contains("deletionTimestamp")) return false;
      }
      return true;
    }, std::chrono::seconds(30)));
  }
  testing::CommandResult kubectl(const std::string& args) {
    auto result = cluster.kubectl(args);
    INFO("kubectl " << args << "\n" << result.output);
    REQUIRE(result.exit_code == 0);
    return result;
  }
  void set_config(const std::map<std::string, std::string>& data, const std::string& name = "mps-config-all") {
    json cm = {{"apiVersion", "v1"}, {"kind", "ConfigMap"},
               {"metadata", {{"name", name}, {"namespace", kNs}}}, {"data", data}};
    admin.apply(kube::resources::configmaps, cm, "test-user");
  }
  // The config hash every consumer's pod template carries ("" when they differ or lack one).
  std::string consumer_hash() {
    std::set<std::string> hashes;
    for (const auto& name : kConsumers) {
      auto ds = admin.find(kube::resources::daemonsets, {kNs, name, ""});
      if (!ds) return "";
      hashes.insert((*ds)["spec"]["template"]["metadata"].value("annotations", json::object()).value(kHashAnnotation, ""));
    }
    return hashes.size() == 1 ? *hashes.begin() : "";
  }
  // The guide's flow with `data` in the ConfigMap: the ClusterPolicy patched
  // to use it (with its own rollout deadline when one is given), every consumer
  // carrying its hash. Returns the hash.
  std::string deploy(const std::map<std::string, std::string>& data, const std::string& rollout_deadline = {}) {
    set_config(data);
    kubectl("apply -f " + repo("examples/clusterpolicy-minimal.yaml"));
    if (!rollout_deadline.empty()) {
      kubectl("annotate clusterpolicies.nvidia.com/cluster-policy " + std::string(clusterpolicy::kRolloutDeadlineAnnotation) +
              "=" + rollout_deadline);
    }
    kubectl("patch clusterpolicies.nvidia.com/cluster-policy --type merge "
            "-p '{\"spec\": {\"devicePlugin\": {\"config\": {\"name\": \"mps-config-all\", \"default\": \"mps-any\"}}}}'");
    const std::string hash = hash_of(data);
    INFO("operator log:\n" << op->log_tail());
    REQUIRE(testing::eventually([&] { return consumer_hash() == hash; }, std::chrono::seconds(30)));
    return hash;
  }
  std::vector<long> generations() {
    std::vector<long> out;
    for (const auto& name : kConsumers) {
      out.push_back(admin.get(kube::resources::daemonsets, {kNs, name, ""})["metadata"].value("generation", 0L));
    }
    return out;
  }
  std::string mounted_configmap(const std::string& ds_name) {
    auto ds = admin.get(kube::resources::daemonsets, {kNs, ds_name, ""});
    for (const auto& v : ds["spec"]["template"]["spec"].value("volumes", json::array())) {
      if (v.contains("configMap")) return v["configMap"]["name"];
    }
    return "";
  }
  void rollout_all() {
    for (const auto& name : kConsumers) {
      auto result = cluster.kubectl("-n " + kNs + " rollout status daemonset/" + name + " --timeout=90s");
      INFO(result.output << "\noperator log:\n" << op->log_tail());
      REQUIRE(result.exit_code == 0);
    }
  }
  json config_status() {
    auto cp = admin.get(kube::resources::clusterpolicies, {"", "cluster-policy", ""});
    return cp.value("status", json::object()).value("config", json::object());
  }
  json condition(const std::string& type) {
    auto cp = admin.get(kube::resources::clusterpolicies, {"", "cluster-policy", ""});
    for (const auto& c : cp.value("status", json::object()).value("conditions", json::array())) {
      if (c["type"] == type) return c;
    }
    return json::object();
  }
  std::vector<std::string> snapshots() {
    std::vector<std::string> names;
    auto list = admin.list(kube::resources::configmaps, kNs,
                           kube::ListOptions{.label_selector = std::string(clusterpolicy::kSnapshotSourceLabel) + "=mps-config-all"});
    for (const auto& cm : list["items"]) names.push_back(cm["metadata"]["name"]);
    return names;
  }
  // After faults: every consumer rolled out on the snapshot of `hash`, the config
  // status current, Ready, and the operator still running.
  void require_converged(const std::string& hash) {
    rollout_all();
    INFO("operator log:\n" << op->log_tail());
    CHECK(testing::eventually([&] {
      const json status = config_status();
      return status.value("state", "") == "current" && status.value("appliedHash", "") == hash;
    }, std::chrono::seconds(60)));
    CHECK(testing::eventually([&] { return condition("Ready").value("status", "") == "True"; },
                              std::chrono::seconds(60)));
    for (const auto& name : kConsumers) {
      INFO(name);
      CHECK(mounted_configmap(name) == clusterpolicy::snapshot_name("mps-config-all", hash));
    }
    CHECK(op->running());
  }
  bool has_event(const std::string& reason, const std::string& object) {
    auto events = cluster.kubectl("get events -A --field-selector reason=" + reason + ",involvedObject.name=" + object);
    return events.output.find(reason) != std::string::npos;
  }
};

}  // namespace cpo::testing::config
