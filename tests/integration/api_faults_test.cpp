// The operator behind a slow and failing API (the harness's fault proxy between it
// and kube-apiserver): latency, HTTP 500, HTTP 429 with Retry-After, connections
// dropped before or after the server acted; and cut off entirely while its watches
// expire. It converges on what the user asked, honours Retry-After, and its request
// count stays bounded.
#include <catch2/catch.hpp>

#include <thread>

#include "support/config_environment.hpp"
#include "support/fault_proxy.hpp"

using namespace cpo;
using namespace cpo::testing::config;

namespace {

// The guide's flow, then `edits` more configs, each waited for on every consumer.
std::string edit_and_wait(ConfigEnvironment& env, int first_replicas, int edits) {
  std::string hash;
  for (int i = 0; i < edits; ++i) {
    const std::map<std::string, std::string> data = {{"mps-any", mps_doc(first_replicas + i)}};
    env.set_config(data);
    hash = hash_of(data);
    INFO("operator log:\n" << env.op->log_tail());
    REQUIRE(testing::eventually([&] { return env.consumer_hash() == hash; }, std::chrono::seconds(90)));
  }
  return hash;
}

}  // namespace

TEST_CASE("API faults: through latency, 500s, 429s and dropped connections the config reaches every consumer",
          "[config][integration][fault]") {
  ConfigEnvironment env(false);
  testing::FaultProxy proxy(env.cluster);
  // Every request of the operator, watches included, from its first one.
  proxy.set({{"latencyMs", 5}, {"jitterMs", 30}, {"error500", 0.06}, {"error429", 0.06}, {"retryAfterSeconds", 1},
             {"drop", 0.03}, {"dropAfter", 0.03}, {"includeWatches", true}, {"seed", 7}});
  env.operator_kubeconfig = proxy.identity_kubeconfig(kNs, "gpu-operator");
  env.start();
  env.set_config({{"mps-any", mps_doc(2)}});
  env.kubectl("apply -f " + repo("examples/clusterpolicy-minimal.yaml"));
  env.kubectl("patch clusterpolicies.nvidia.com/cluster-policy --type merge "
              "-p '{\"spec\": {\"devicePlugin\": {\"config\": {\"name\": \"mps-config-all\", \"default\": \"mps-any\"}}}}'");
  const std::string hash = edit_and_wait(env, 2, 4);
  env.require_converged(hash);

  const json stats = proxy.stats();
  INFO("proxy stats: " << stats.dump() << "\nproxy log:\n" << proxy.log_tail());
  // The faults happened...
  CHECK(stats["injected500"] > 0);
  CHECK(stats["injected429"] > 0);
  CHECK(stats["dropped"] > 0);
  CHECK(stats["droppedAfter"] > 0);
  // ...a refused request was sent again only after the second the server asked for
  // (a gap is measured to the next identical request, which another worker may send
  // sooner: most, not all)...
  const json gaps = stats["retryGapsMs"];
  REQUIRE(gaps.size() >= 2);
  std::size_t waited = 0;
  for (const auto& gap : gaps) waited += gap.get<long>() >= 950 ? 1 : 0;
  CHECK(waited * 10 >= gaps.size() * 8);
  // ...and nothing looped: a fault costs a retry or a requeue, not a storm.
  const long faults = stats["injected500"].get<long>() + stats["injected429"].get<long>() +
                      stats["dropped"].get<long>() + stats["droppedAfter"].get<long>();
  // (Measured: 84 requests, 18 of them faulted.)
  CHECK(stats["requests"].get<long>() <= 150 + 3 * faults);
}

TEST_CASE("API faults: cut off while its watches expire, the operator lists again and rolls what it missed",
          "[config][integration][fault]") {
  ConfigEnvironment env(false);
  testing::FaultProxy proxy(env.cluster);
  env.operator_kubeconfig = proxy.identity_kubeconfig(kNs, "gpu-operator");
  env.start();
  env.deploy({{"mps-any", mps_doc(2)}});
  env.rollout_all();

  // Every connection of the operator cut and every new one refused; meanwhile the
  // user changes the config, etcd is compacted past what the operator saw, and the
  // API server restarts so its watch cache starts after the compaction too.
  proxy.set({{"blackhole", true}});
  const std::map<std::string, std::string> missed = {{"mps-any", mps_doc(5)}};
  env.set_config(missed);
  for (int i = 0; i < 3; ++i) {
    env.kubectl("annotate --overwrite clusterpolicies.nvidia.com/cluster-policy expired-watch.test/round=" +
                std::to_string(i));
  }
  auto compact = env.cluster.harness("compact");
  INFO(compact.output);
  REQUIRE(compact.exit_code == 0);
  auto restarted = env.cluster.harness("restart-apiserver");
  INFO(restarted.output);
  REQUIRE(restarted.exit_code == 0);
  std::this_thread::sleep_for(std::chrono::seconds(3));
  const json cut_off = proxy.stats();
  INFO("proxy stats while cut off: " << cut_off.dump());
  CHECK(cut_off["cut"] > 0);
  CHECK(env.consumer_hash() != hash_of(missed));  // nothing reached the operator

  proxy.set(json::object());
  const std::string hash = hash_of(missed);
  INFO("operator log:\n" << env.op->log_tail(12000));
  REQUIRE(testing::eventually([&] { return env.consumer_hash() == hash; }, std::chrono::seconds(60)));
  env.require_converged(hash);
  // It learnt of the expiry from the server (410 Gone) and listed again.
  CHECK_THAT(env.op->log_tail(200000), Catch::Contains("listing again"));
}
