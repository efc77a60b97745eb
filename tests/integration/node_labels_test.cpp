// The node label controller end to end: nodes that gain or lose a GPU, or whose
// operands are switched off, are labelled and unlabelled one by one, and label
// changes the ClusterPolicy does not read cost it no reconcile.
#include <catch2/catch.hpp>

#include <thread>

#include "support/operator_environment.hpp"

using namespace cpo;
using testing::operators::Environment;
using testing::operators::reconciles;
using json = nlohmann::json;

namespace {

const std::string kNode = "gpu-later";
const std::string kDeployDevicePlugin = "nvidia.com/gpu.deploy.device-plugin";
const std::string kDeployGfd = "nvidia.com/gpu.deploy.gpu-feature-discovery";

json labels_of(Environment& env) {
  return env.admin.get(kube::resources::nodes, {"", kNode, ""})["metadata"].value("labels", json::object());
}

bool deployed(Environment& env) {
  const json labels = labels_of(env);
  return labels.value(kDeployDevicePlugin, "") == "true" && labels.value(kDeployGfd, "") == "true";
}

bool undeployed(Environment& env) {
  const json labels = labels_of(env);
  return !labels.contains(kDeployDevicePlugin) && !labels.contains(kDeployGfd);
}

}  // namespace

TEST_CASE("Node labels: a node is labelled when it gains a GPU and unlabelled when its operands go",
          "[operator][integration]") {
  Environment env;
  env.add_node(kNode, "");
  env.run("label node " + kNode + " --overwrite nvidia.com/gpu.present- nvidia.com/gpu.deploy.operands-");
  env.run("apply -f " + testing::operators::repo("examples/clusterpolicy.yaml"));
  REQUIRE(testing::eventually([&] { return env.policy_state("ready"); }, std::chrono::seconds(60)));
  CHECK(undeployed(env));

  env.run("label node " + kNode + " nvidia.com/gpu.present=true");
  INFO("operator log:\n" << env.op->log_tail());
  CHECK(testing::eventually([&] { return deployed(env); }, std::chrono::seconds(15)));

  // GFD labels other than the sharing ones are none of the ClusterPolicy's business.
  std::this_thread::sleep_for(std::chrono::seconds(2));
  const double policy_reconciles = reconciles(*env.op);
  REQUIRE(policy_reconciles > 0);
  for (int replicas = 2; replicas <= 6; ++replicas) {
    env.run("label node " + kNode + " --overwrite nvidia.com/cuda.driver.major=" + std::to_string(replicas));
  }
  std::this_thread::sleep_for(std::chrono::seconds(3));
  CHECK(reconciles(*env.op) == policy_reconciles);
  CHECK(reconciles(*env.op, "node-labels") > 0);

  // Operands switched off on the node (as NVIDIA's operator honours it): the labels go.
  env.run("label node " + kNode + " nvidia.com/gpu.deploy.operands=false");
  CHECK(testing::eventually([&] { return undeployed(env); }, std::chrono::seconds(15)));
  env.run("label node " + kNode + " nvidia.com/gpu.deploy.operands- nvidia.com/gpu.present- nvidia.com/cuda.driver.major-");
}

TEST_CASE("Node labels: the first ClusterPolicy brings every GPU node in", "[operator][integration]") {
  Environment env;
  env.add_node(kNode, "");
  env.run("label node " + kNode + " --overwrite nvidia.com/gpu.present=true");
  env.run("label node " + kNode + " " + kDeployDevicePlugin + "- " + kDeployGfd + "-");
  // No ClusterPolicy: nothing is labelled.
  std::this_thread::sleep_for(std::chrono::seconds(3));
  CHECK(undeployed(env));
  env.run("apply -f " + testing::operators::repo("examples/clusterpolicy.yaml"));
  INFO("operator log:\n" << env.op->log_tail());
  CHECK(testing::eventually([&] { return deployed(env); }, std::chrono::seconds(15)));
  env.run("label node " + kNode + " nvidia.com/gpu.present-");
  CHECK(testing::eventually([&] { return undeployed(env); }, std::chrono::seconds(15)));
}
