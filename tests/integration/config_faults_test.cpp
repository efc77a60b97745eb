// Config rollouts when the operator dies: killed with SIGKILL (no shutdown of any
// kind) in the middle of a rollout and of a failing one, the next instance finishes
// the work from what the cluster holds: the snapshot, the consumers' templates and
// the rollout record in the ClusterPolicy's status.
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <thread>

#include "support/config_environment.hpp"

using namespace cpo;
using namespace cpo::testing::config;

TEST_CASE("Config: an operator killed mid-rollout is finished by the next one, without a second roll",
          "[config][integration][fault]") {
  ConfigEnvironment env;
  env.deploy({{"mps-any", mps_doc(2)}});
  env.rollout_all();
  REQUIRE(testing::eventually([&] { return env.config_status().value("state", "") == "current"; },
                              std::chrono::seconds(20)));

  const std::map<std::string, std::string> next = {{"mps-any", mps_doc(3)}};
  const std::string hash = hash_of(next);
  env.set_config(next);
  REQUIRE(testing::eventually([&] { return env.consumer_hash() == hash; }, std::chrono::seconds(30)));
  env.op->kill_now();  // the consumers' pods are still rolling to the new config
  const std::vector<long> generations = env.generations();

  env.start();
  env.rollout_all();
  json status;
  const bool current = testing::eventually([&] {
    status = env.config_status();
    return status.value("state", "") == "current" && status.value("appliedHash", "") == hash;
  }, std::chrono::seconds(30));
  INFO("config status: " << status.dump() << "\noperator log:\n" << env.op->log_tail());
  CHECK(current);
  CHECK(env.generations() == generations);  // nothing rolled a second time
  const auto kept = env.snapshots();
  CHECK(std::count(kept.begin(), kept.end(), clusterpolicy::snapshot_name("mps-config-all", hash)) == 1);
  CHECK(env.consumer_hash() == hash);
}

TEST_CASE("Config: an operator killed during a failing rollout is replaced by one that rolls it back",
          "[config][integration][fault]") {
  ConfigEnvironment env;
  const std::string good = env.deploy({{"mps-any", mps_doc(4)}}, "8s");
  env.rollout_all();
  REQUIRE(testing::eventually([&] { return env.config_status().value("state", "") == "current"; },
                              std::chrono::seconds(20)));

  // Every pod of the next config crash-loops; the operator dies before its deadline.
  const std::map<std::string, std::string> broken = {{"mps-any", mps_doc(12)}};
  const std::string bad = hash_of(broken);
  REQUIRE(env.cluster.harness("fail-pods", "--annotation " + kHashAnnotation + "=" + bad).exit_code == 0);
  env.set_config(broken);
  REQUIRE(testing::eventually([&] { return env.consumer_hash() == bad; }, std::chrono::seconds(30)));
  REQUIRE(testing::eventually([&] { return env.config_status().value("state", "") == "rolling"; },
                              std::chrono::seconds(10)));
  env.op->kill_now();

  env.start();
  INFO("operator log:\n" << env.op->log_tail());
  CHECK(testing::eventually([&] { return env.consumer_hash() == good; }, std::chrono::seconds(60)));
  CHECK(testing::eventually([&] {
    const json failed = env.config_status().value("failedHashes", json::array());
    return !failed.empty() && failed[0] == bad;
  }, std::chrono::seconds(10)));
  CHECK(testing::eventually([&] { return env.condition("Error").value("reason", "") == "RolloutFailed"; },
                            std::chrono::seconds(10)));
  env.rollout_all();
}

TEST_CASE("Config: kube-apiserver killed five times under churn: the final config reaches every consumer once",
          "[config][integration][fault]") {
  ConfigEnvironment env;
  env.deploy({{"mps-any", mps_doc(2)}});
  env.rollout_all();
  const std::vector<long> before = env.generations();
  const double writes_before = env.op->requests({"POST", "PUT", "PATCH", "DELETE"});

  // A user editing the config and the ClusterPolicy while the API server comes and goes.
  std::atomic<bool> churning{true};
  std::atomic<int> edits{0};
  std::thread churn([&] {
    kube::Client user(env.cluster.admin_config());
    for (int i = 0; churning; ++i) {
      try {
        user.apply(kube::resources::configmaps,
                   {{"apiVersion", "v1"}, {"kind", "ConfigMap"},
                    {"metadata", {{"name", "mps-config-all"}, {"namespace", kNs}}},
                    {"data", {{"mps-any", mps_doc(2 + i % 5)}}}},
                   "test-user");
        ++edits;
        user.patch(kube::resources::clusterpolicies, {"", "cluster-policy", ""}, kube::PatchType::Merge,
                   {{"metadata", {{"annotations", {{"churn.test/round", std::to_string(i)}}}}}});
      } catch (const std::exception&) {
        // the API server is down: the user tries again
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(400));
    }
  });
  for (int i = 0; i < 5; ++i) {
    auto restarted = env.cluster.harness("restart-apiserver", "--kill");
    INFO(restarted.output);
    CHECK(restarted.exit_code == 0);
    std::this_thread::sleep_for(std::chrono::seconds(2));
  }
  churning = false;
  churn.join();

  // The last word: a config none of the churn wrote.
  const std::map<std::string, std::string> last = {{"mps-any", mps_doc(9)}};
  env.set_config(last);
  const std::string hash = hash_of(last);
  INFO("operator log:\n" << env.op->log_tail());
  REQUIRE(testing::eventually([&] { return env.consumer_hash() == hash; }, std::chrono::seconds(60)));
  env.require_converged(hash);

  // Each DaemonSet changed at most once per config the user wrote (and once for the
  // last one), never twice for one; the writes stayed within what the edits and a
  // retry per restart need.
  const std::vector<long> after = env.generations();
  INFO("edits: " << edits);
  for (std::size_t i = 0; i < after.size(); ++i) CHECK(after[i] - before[i] <= edits + 1);
  const double writes = env.op->requests({"POST", "PUT", "PATCH", "DELETE"}) - writes_before;
  CHECK(writes <= (edits + 1) * 10.0 + 5 * 10.0);
}
