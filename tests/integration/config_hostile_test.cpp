// Hostile device-plugin configs in the cluster (anyone who may edit the ConfigMap
// can write them): a value of about 1 MiB, an alias bomb, nesting thousands deep.
// Each is refused with its reason in the status, nothing rolls, the operator keeps
// running and does not spin on it.
#include <catch2/catch.hpp>

#include <thread>

#include "support/config_environment.hpp"
#include "support/operator_environment.hpp"

using namespace cpo;
using namespace cpo::testing::config;

namespace {

std::string alias_bomb() {
  std::string doc = "version: v1\na: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n";
  char previous = 'a';
  for (char level = 'b'; level <= 'j'; ++level) {
    doc += std::string(1, level) + ": &" + level + " [";
    for (int i = 0; i < 9; ++i) doc += std::string(i ? ",*" : "*") + previous;
    doc += "]\n";
    previous = level;
  }
  return doc;
}

}  // namespace

TEST_CASE("Config: a 1 MiB value, an alias bomb and deep nesting are refused without a crash or a loop",
          "[config][integration][fault]") {
  ConfigEnvironment env;
  const std::string good = env.deploy({{"mps-any", mps_doc(4)}});

  struct Hostile {
    const char* name;
    std::string doc;
    const char* expected;  // in the ConfigValid message
  };
  const Hostile cases[] = {
      {"an unknown key holding about 1 MiB", mps_doc(4) + "junk: " + std::string(1000 * 1000, 'a') + "\n",
       "bytes are accepted"},
      {"a billion-laughs alias bomb", alias_bomb(), "aliases"},
      {"nesting 5000 deep", "version: v1\nflags: " + std::string(5000, '[') + std::string(5000, ']') + "\n",
       "nests deeper than"},
  };
  for (const auto& c : cases) {
    INFO(c.name << "\noperator log:\n" << env.op->log_tail());
    env.set_config({{"mps-any", c.doc}});
    CHECK(testing::eventually([&] {
      auto valid = env.condition("ConfigValid");
      return valid.value("status", "") == "False" && valid.value("message", "").find(c.expected) != std::string::npos;
    }, std::chrono::seconds(30)));
    std::this_thread::sleep_for(std::chrono::seconds(2));
    // No retry loop on a config that cannot change by itself.
    const double reconciles = testing::operators::reconciles(*env.op);
    std::this_thread::sleep_for(std::chrono::seconds(5));
    CHECK(testing::operators::reconciles(*env.op) - reconciles <= 1);
    CHECK(env.consumer_hash() == good);  // nothing rolled
    CHECK(env.op->running());
  }
  // And it still takes a good config.
  const std::map<std::string, std::string> fixed = {{"mps-any", mps_doc(6)}};
  env.set_config(fixed);
  CHECK(testing::eventually([&] { return env.consumer_hash() == hash_of(fixed); }, std::chrono::seconds(30)));
}

TEST_CASE("Config: odd node label values are reported per node without a crash or a loop",
          "[config][integration][fault]") {
  ConfigEnvironment env;
  env.deploy({{"mps-any", mps_doc(4)}});
  env.kubectl("annotate clusterpolicies.nvidia.com/cluster-policy " +
              std::string(clusterpolicy::kEffectGracePeriodAnnotation) + "=2s");
  env.rollout_all();
  struct Restore {
    ConfigEnvironment& env;
    ~Restore() {
      env.cluster.kubectl("label node gpu-node-1 gpu-node-2 nvidia.com/gpu.count- nvidia.com/gpu.replicas- "
                          "nvidia.com/gpu.sharing-strategy- nvidia.com/gpu.product- nvidia.com/device-plugin.config- "
                          "feature.node.kubernetes.io/pci-10de.present-");
    }
  } restore{env};
  // A node whose labels are garbage, and one that selects a key spelt like none in the ConfigMap.
  env.kubectl("label node gpu-node-1 --overwrite nvidia.com/gpu.count=many nvidia.com/gpu.replicas=0x4 "
              "nvidia.com/gpu.sharing-strategy=MPS_x nvidia.com/gpu.product=x feature.node.kubernetes.io/pci-10de.present=true");
  env.kubectl("label node gpu-node-2 --overwrite nvidia.com/device-plugin.config=Mps-Any.0");
  INFO("operator log:\n" << env.op->log_tail());
  auto effect = [&] {
    return env.admin.get(kube::resources::clusterpolicies, {"", "cluster-policy", ""})["status"].value("effect", json::object());
  };
  REQUIRE(testing::eventually([&] { return effect().value("mismatched", 0) >= 1; }, std::chrono::seconds(30)));
  CHECK(effect()["mismatchedNodes"][0]["message"] == "nvidia.com/gpu.replicas is 0x4, config mps-any says 4");
  CHECK(testing::eventually([&] {
    return env.config_status().value("nodesSelectingUnknownKeys", json::object()).dump().find("gpu-node-2=Mps-Any.0") !=
           std::string::npos;
  }, std::chrono::seconds(20)));
  std::this_thread::sleep_for(std::chrono::seconds(3));
  const double reconciles = testing::operators::reconciles(*env.op);
  const double writes = env.op->requests({"POST", "PUT", "PATCH"});
  std::this_thread::sleep_for(std::chrono::seconds(6));
  CHECK(testing::operators::reconciles(*env.op) - reconciles <= 2);
  CHECK(env.op->requests({"POST", "PUT", "PATCH"}) - writes <= 1);
  CHECK(env.op->running());
}
