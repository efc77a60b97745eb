// A config's effect on the nodes end to end: the test plays GPU Feature Discovery
// and the device plugin (it writes the labels and the capacity they would), and
// the ClusterPolicy says per node whether the config is in effect.
#include <catch2/catch.hpp>

#include "clusterpolicy/vocabulary.hpp"
#include "support/config_environment.hpp"

using namespace cpo;
using json = nlohmann::json;
using namespace cpo::testing::config;

namespace {

const char* kNode1 = "gpu-node-1";
const char* kNode2 = "gpu-node-2";

// What GFD and the device plugin show on a node with one GPU shared `replicas` ways by MPS.
void show(ConfigEnvironment& env, const std::string& node, int replicas) {
  env.kubectl("label node " + node + " --overwrite nvidia.com/gpu.count=1 nvidia.com/gpu.replicas=" +
              std::to_string(replicas) +
              " nvidia.com/gpu.sharing-strategy=mps nvidia.com/gpu.product=NVIDIA-A100-SXM4-40GB-SHARED "
              "feature.node.kubernetes.io/pci-10de.present=true");
  const std::string gpus = "\"" + std::to_string(replicas) + "\"";
  env.kubectl("patch node " + node + " --subresource=status --type merge -p '{\"status\": {\"capacity\": "
              "{\"nvidia.com/gpu\": " + gpus + "}, \"allocatable\": {\"nvidia.com/gpu\": " + gpus + "}}}'");
}

void forget(ConfigEnvironment& env, const std::string& node) {
  env.cluster.kubectl("label node " + node +
                      " nvidia.com/gpu.count- nvidia.com/gpu.replicas- nvidia.com/gpu.sharing-strategy- "
                      "nvidia.com/gpu.product- feature.node.kubernetes.io/pci-10de.present-");
  env.cluster.kubectl("patch node " + node + " --subresource=status --type json -p "
                      "'[{\"op\": \"remove\", \"path\": \"/status/capacity/nvidia.com~1gpu\"}, "
                      "{\"op\": \"remove\", \"path\": \"/status/allocatable/nvidia.com~1gpu\"}]'");
}

// The shown labels go when the test does: other tests' nodes show nothing.
struct Shown {
  ConfigEnvironment& env;
  ~Shown() {
    for (const char* node : {kNode1, kNode2}) forget(env, node);
  }
};

json effect(ConfigEnvironment& env) {
  auto cp = env.admin.get(kube::resources::clusterpolicies, {"", "cluster-policy", ""});
  return cp.value("status", json::object()).value("effect", json::object());
}

}  // namespace

TEST_CASE("Effect: nodes that show the config are InEffect, a lying node turns Mismatched, a relabelled one converges",
          "[config][effect][integration]") {
  ConfigEnvironment env;
  Shown shown{env};
  std::map<std::string, std::string> data = {{"mps-any", mps_doc(4)}, {"mps-two", mps_doc(2)}};
  const std::string hash = env.deploy(data, "10m");
  env.kubectl("annotate clusterpolicies.nvidia.com/cluster-policy " +
              std::string(clusterpolicy::kEffectGracePeriodAnnotation) + "=5s");
  env.rollout_all();
  INFO("operator log:\n" << env.op->log_tail());

  // No GFD labels yet: Unknown, said so, and no reason to hold Ready back.
  REQUIRE(testing::eventually([&] { return effect(env).value("unknown", 0) == 2; }, std::chrono::seconds(30)));
  CHECK(effect(env).value("hash", "") == hash);
  CHECK(effect(env).contains("warning"));  // no node has NFD's label
  CHECK(testing::eventually([&] { return env.condition("Ready").value("status", "") == "True"; }, std::chrono::seconds(20)));

  // One node shows the config, the other reports 2 replicas where the config says 4.
  show(env, kNode1, 4);
  show(env, kNode2, 2);
  CHECK(testing::eventually([&] { return effect(env).value("inEffect", 0) == 1; }, std::chrono::seconds(20)));
  CHECK_FALSE(effect(env).contains("warning"));
  REQUIRE(testing::eventually([&] { return effect(env).value("mismatched", 0) == 1; }, std::chrono::seconds(30)));
  const json mismatched = effect(env)["mismatchedNodes"];
  REQUIRE(mismatched.size() == 1);
  CHECK(mismatched[0]["name"] == kNode2);
  CHECK(mismatched[0]["message"] == "nvidia.com/gpu.replicas is 2, config mps-any says 4");
  CHECK(env.condition("Error").value("status", "") == "True");
  CHECK(env.condition("Error").value("reason", "") == "ConfigMismatched");
  CHECK(env.condition("Ready").value("reason", "") == "ConfigMismatched");
  CHECK(testing::eventually([&] { return env.has_event("ConfigMismatched", "cluster-policy"); }, std::chrono::seconds(20)));

  // It catches up: in effect on every GPU node, with an Event and the kubectl column.
  show(env, kNode2, 4);
  REQUIRE(testing::eventually([&] { return effect(env).value("inEffectHash", "") == hash; }, std::chrono::seconds(20)));
  CHECK(env.condition("Error").value("status", "") == "False");
  CHECK(env.condition("Ready").value("status", "") == "True");
  CHECK(testing::eventually([&] { return env.has_event("ConfigInEffect", "cluster-policy"); }, std::chrono::seconds(20)));
  CHECK(env.kubectl("get clusterpolicies.nvidia.com cluster-policy --no-headers").output.find("2/2") != std::string::npos);

  // The node-specific flow: relabelled to mps-two, the node is Pending until it shows 2.
  env.kubectl("label node " + std::string(kNode2) + " nvidia.com/device-plugin.config=mps-two");
  REQUIRE(testing::eventually([&] { return effect(env).value("pending", 0) == 1; }, std::chrono::seconds(20)));
  CHECK(effect(env)["pendingNodes"][0]["message"] == "nvidia.com/gpu.replicas is 4, config mps-two says 2");
  CHECK(env.condition("Progressing").value("reason", "") == "ConvergingOnNodes");
  CHECK(env.condition("Error").value("status", "") == "False");
  show(env, kNode2, 2);
  CHECK(testing::eventually([&] { return effect(env).value("inEffect", 0) == 2; }, std::chrono::seconds(20)));
  CHECK(testing::eventually([&] { return env.condition("Progressing").value("reason", "") == "Complete"; },
                            std::chrono::seconds(20)));
}
