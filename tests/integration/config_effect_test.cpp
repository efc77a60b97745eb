// A config's effect on the nodes end to end: the harness's simulated device plugin
// and GPU Feature Discovery (tests/gpusim) write what the real pair would on each
// node whose device-plugin pod is Ready, and the ClusterPolicy says per node
// whether the config is in effect. The flows are the user guide's, with its commands.
#include <catch2/catch.hpp>

#include "clusterpolicy/vocabulary.hpp"
#include "gpusim/simulator.hpp"
#include "support/config_environment.hpp"

using namespace cpo;
using json = nlohmann::json;
using namespace cpo::testing::config;

namespace {

const char* kNode1 = "gpu-node-1";
const char* kNode2 = "gpu-node-2";
const std::string kSim = gpusim::kAnnotationPrefix;

// The simulator for one test; when the test ends it stops first, then what it
// wrote and what it was told go, so other tests' nodes show nothing.
struct Simulated {
  ConfigEnvironment& env;
  std::unique_ptr<testing::GpuSimProcess> sim;
  explicit Simulated(ConfigEnvironment& e) : env(e) {}
  void start() { sim = std::make_unique<testing::GpuSimProcess>(env.cluster, kNs, "1s"); }
  void tell(const std::string& node, const std::string& knob, const std::string& value) {
    env.kubectl("annotate node " + node + " --overwrite " + kSim + knob + "=" + value);
  }
  void untell(const std::string& node, const std::string& knob) {
    env.kubectl("annotate node " + node + " " + kSim + knob + "-");
  }
  std::string log() const { return sim ? sim->log_tail() : ""; }
  ~Simulated() {
    sim.reset();
    for (const char* node : {kNode1, kNode2}) {
      env.cluster.kubectl("annotate node " + std::string(node) + " " + kSim + "gpus- " + kSim + "product- " + kSim +
                          "lag- " + kSim + "lie-replicas- " + kSim + "absent-");
      env.cluster.kubectl("label node " + std::string(node) +
                          " nvidia.com/gpu.count- nvidia.com/gpu.replicas- nvidia.com/gpu.sharing-strategy- "
                          "nvidia.com/gpu.product- feature.node.kubernetes.io/pci-10de.present-" +
                          (node == std::string(kNode2) ? " nvidia.com/mps.capable-" : ""));  // node 1 has it from the start
      env.cluster.kubectl("patch node " + std::string(node) + " --subresource=status --type merge -p "
                          "'{\"status\": {\"capacity\": {\"nvidia.com/gpu\": null, \"nvidia.com/gpu.shared\": null}, "
                          "\"allocatable\": {\"nvidia.com/gpu\": null, \"nvidia.com/gpu.shared\": null}}}'");
    }
  }
};

json effect(ConfigEnvironment& env) {
  auto cp = env.admin.get(kube::resources::clusterpolicies, {"", "cluster-policy", ""});
  return cp.value("status", json::object()).value("effect", json::object());
}

bool fully_in_effect(ConfigEnvironment& env) {
  const json e = effect(env);
  return e.value("gpuNodes", 0) == 2 && e.value("inEffect", 0) == 2 && !e.value("hash", "").empty() &&
         e.value("inEffectHash", "") == e.value("hash", "");
}

json node(ConfigEnvironment& env, const std::string& name) { return env.admin.get(kube::resources::nodes, {"", name, ""}); }

std::string node_label(ConfigEnvironment& env, const std::string& name, const std::string& key) {
  return node(env, name)["metadata"].value("labels", json::object()).value(key, "");
}

std::string node_capacity(ConfigEnvironment& env, const std::string& name, const std::string& resource) {
  return node(env, name).value("status", json::object()).value("capacity", json::object()).value(resource, "");
}

void guide_creates_clusterpolicy(ConfigEnvironment& env) {
  env.kubectl("apply -f " + repo("examples/clusterpolicy-minimal.yaml"));
}

}  // namespace

TEST_CASE("Effect: the guide's cluster-wide flow ends InEffect on every node with the labels and capacity it shows",
          "[config][effect][integration]") {
  ConfigEnvironment env;
  Simulated gpus(env);
  gpus.tell(kNode2, "gpus", "4");
  gpus.tell(kNode2, "product", "Tesla-T4");
  gpus.start();
  guide_creates_clusterpolicy(env);
  env.kubectl("create -n gpu-operator -f " + repo("examples/mps-config-all.yaml"));
  env.kubectl("patch clusterpolicies.nvidia.com/cluster-policy -n gpu-operator --type merge "
              "-p '{\"spec\": {\"devicePlugin\": {\"config\": {\"name\": \"mps-config-all\", \"default\": \"mps-any\"}}}}'");
  INFO("operator log:\n" << env.op->log_tail() << "\ngpu-sim log:\n" << gpus.log());

  REQUIRE(testing::eventually([&] { return fully_in_effect(env); }, std::chrono::seconds(60)));
  CHECK(effect(env).value("summary", "") == "2/2");
  CHECK(env.kubectl("get clusterpolicies.nvidia.com cluster-policy --no-headers").output.find("2/2") != std::string::npos);
  CHECK(testing::eventually([&] { return env.has_event("ConfigInEffect", "cluster-policy"); }, std::chrono::seconds(20)));
  CHECK(testing::eventually([&] { return env.condition("Progressing").value("reason", "") == "Complete"; },
                            std::chrono::seconds(20)));
  CHECK(env.condition("Ready").value("status", "") == "True");
  CHECK(env.condition("Error").value("status", "") == "False");

  // What the guide's `kubectl describe node` step shows with renameByDefault false.
  CHECK(node_label(env, kNode2, "nvidia.com/gpu.count") == "4");
  CHECK(node_label(env, kNode2, "nvidia.com/gpu.product") == "Tesla-T4-SHARED");
  CHECK(node_label(env, kNode2, "nvidia.com/gpu.replicas") == "4");
  CHECK(node_label(env, kNode2, "nvidia.com/gpu.sharing-strategy") == "mps");
  CHECK(node_capacity(env, kNode2, "nvidia.com/gpu") == "16");
}

TEST_CASE("Effect: the guide's node-specific flow: a node labelled mps-two moves through Pending to InEffect",
          "[config][effect][integration]") {
  ConfigEnvironment env;
  Simulated gpus(env);
  gpus.start();
  guide_creates_clusterpolicy(env);
  env.kubectl("create -n gpu-operator -f " + repo("examples/mps-config-fine.yaml"));
  env.kubectl("patch clusterpolicies.nvidia.com/cluster-policy -n gpu-operator --type merge "
              "-p '{\"spec\": {\"devicePlugin\": {\"config\": {\"name\": \"mps-config-fine\"}}}}'");
  INFO("operator log:\n" << env.op->log_tail() << "\ngpu-sim log:\n" << gpus.log());

  // No default: unlabelled nodes run the plugin unshared, and that is in effect.
  REQUIRE(testing::eventually([&] { return fully_in_effect(env); }, std::chrono::seconds(60)));
  CHECK(node_label(env, kNode2, "nvidia.com/gpu.sharing-strategy") == "none");

  // This node's plugin takes a while to pick the new key up: Pending meanwhile.
  gpus.tell(kNode2, "lag", "8s");
  env.kubectl("label node " + std::string(kNode2) + " nvidia.com/device-plugin.config=mps-two");
  REQUIRE(testing::eventually([&] { return effect(env).value("pending", 0) == 1; }, std::chrono::seconds(20)));
  const json pending = effect(env)["pendingNodes"];
  REQUIRE(pending.size() == 1);
  CHECK(pending[0]["name"] == kNode2);
  CHECK(pending[0]["message"] == "nvidia.com/gpu.replicas is 1, config mps-two says 2");
  CHECK(env.condition("Progressing").value("reason", "") == "ConvergingOnNodes");
  CHECK(env.condition("Error").value("status", "") == "False");

  REQUIRE(testing::eventually([&] { return fully_in_effect(env); }, std::chrono::seconds(40)));
  CHECK(node_label(env, kNode2, "nvidia.com/gpu.replicas") == "2");
  CHECK(node_label(env, kNode1, "nvidia.com/gpu.replicas") == "1");
  CHECK(testing::eventually([&] { return env.condition("Progressing").value("reason", "") == "Complete"; },
                            std::chrono::seconds(20)));
}

TEST_CASE("Effect: nodes without GFD are Unknown with a warning, a lying node turns Mismatched, then converges",
          "[config][effect][integration]") {
  ConfigEnvironment env;
  Simulated gpus(env);
  gpus.tell(kNode1, "absent", "true");
  gpus.tell(kNode2, "absent", "true");
  gpus.start();
  const std::string hash = env.deploy({{"mps-any", mps_doc(4)}, {"mps-two", mps_doc(2)}}, "10m");
  env.kubectl("annotate clusterpolicies.nvidia.com/cluster-policy " +
              std::string(clusterpolicy::kEffectGracePeriodAnnotation) + "=5s");
  env.rollout_all();
  INFO("operator log:\n" << env.op->log_tail() << "\ngpu-sim log:\n" << gpus.log());

  // No GFD labels: Unknown, said so, and no reason to hold Ready back.
  REQUIRE(testing::eventually([&] { return effect(env).value("unknown", 0) == 2; }, std::chrono::seconds(30)));
  CHECK(effect(env).value("hash", "") == hash);
  CHECK(effect(env).contains("warning"));  // no node has NFD's label
  CHECK(testing::eventually([&] { return env.condition("Ready").value("status", "") == "True"; }, std::chrono::seconds(20)));

  // GFD arrives; one node's plugin shows 2 replicas where the config says 4.
  gpus.tell(kNode2, "lie-replicas", "2");
  gpus.untell(kNode1, "absent");
  gpus.untell(kNode2, "absent");
  REQUIRE(testing::eventually([&] { return effect(env).value("mismatched", 0) == 1; }, std::chrono::seconds(40)));
  CHECK(effect(env).value("inEffect", 0) == 1);
  CHECK_FALSE(effect(env).contains("warning"));
  const json mismatched = effect(env)["mismatchedNodes"];
  REQUIRE(mismatched.size() == 1);
  CHECK(mismatched[0]["name"] == kNode2);
  CHECK(mismatched[0]["message"] == "nvidia.com/gpu.replicas is 2, config mps-any says 4");
  CHECK(env.condition("Error").value("status", "") == "True");
  CHECK(env.condition("Error").value("reason", "") == "ConfigMismatched");
  CHECK(env.condition("Ready").value("reason", "") == "ConfigMismatched");
  CHECK(testing::eventually([&] { return env.has_event("ConfigMismatched", "cluster-policy"); }, std::chrono::seconds(20)));

  // Fixed: in effect on every GPU node, with an Event.
  gpus.untell(kNode2, "lie-replicas");
  REQUIRE(testing::eventually([&] { return effect(env).value("inEffectHash", "") == hash; }, std::chrono::seconds(30)));
  CHECK(env.condition("Error").value("status", "") == "False");
  CHECK(env.condition("Ready").value("status", "") == "True");
  CHECK(testing::eventually([&] { return env.has_event("ConfigInEffect", "cluster-policy"); }, std::chrono::seconds(20)));
}

TEST_CASE("Effect: with renameByDefault the nodes advertise nvidia.com/gpu.shared and are InEffect",
          "[config][effect][integration]") {
  ConfigEnvironment env;
  Simulated gpus(env);
  gpus.tell(kNode2, "gpus", "2");
  gpus.start();
  const std::string renamed =
      "version: v1\nsharing:\n  mps:\n    renameByDefault: true\n    resources:\n    - name: nvidia.com/gpu\n"
      "      replicas: 3\n";
  env.deploy({{"mps-any", renamed}});
  INFO("operator log:\n" << env.op->log_tail() << "\ngpu-sim log:\n" << gpus.log());

  REQUIRE(testing::eventually([&] { return fully_in_effect(env); }, std::chrono::seconds(60)));
  CHECK(node_capacity(env, kNode2, "nvidia.com/gpu.shared") == "6");
  CHECK(node_capacity(env, kNode2, "nvidia.com/gpu") == "0");
  CHECK(node_label(env, kNode2, "nvidia.com/gpu.product") == "NVIDIA-A100-SXM4-40GB");  // no -SHARED when renamed

  // A plugin that still advertises plain nvidia.com/gpu is told apart.
  env.kubectl("annotate clusterpolicies.nvidia.com/cluster-policy " +
              std::string(clusterpolicy::kEffectGracePeriodAnnotation) + "=3s");
  gpus.sim.reset();
  env.kubectl("patch node " + std::string(kNode2) + " --subresource=status --type merge -p "
              "'{\"status\": {\"capacity\": {\"nvidia.com/gpu\": \"6\"}}}'");
  REQUIRE(testing::eventually([&] { return effect(env).value("mismatched", 0) == 1; }, std::chrono::seconds(30)));
  CHECK(effect(env)["mismatchedNodes"][0]["message"] ==
        "capacity nvidia.com/gpu is 6, config mps-any renames it to nvidia.com/gpu.shared (0 expected)");
}
