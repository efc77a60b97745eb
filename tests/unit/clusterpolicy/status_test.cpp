#include <catch2/catch.hpp>

#include "clusterpolicy/status.hpp"

using namespace cpo::clusterpolicy;
using json = nlohmann::json;

namespace {

json daemonset(long generation, long observed, long desired, long updated, long available, long unavailable,
               const char* strategy = "RollingUpdate") {
  return {{"metadata", {{"generation", generation}}},
          {"spec", {{"updateStrategy", {{"type", strategy}}}}},
          {"status", {{"observedGeneration", observed}, {"desiredNumberScheduled", desired},
                      {"updatedNumberScheduled", updated}, {"numberAvailable", available},
                      {"numberReady", available}, {"numberUnavailable", unavailable}}}};
}

const auto kT0 = std::chrono::system_clock::time_point(std::chrono::seconds(1795000000));

}  // namespace

TEST_CASE("DaemonSet readiness follows the rollout-status rule", "[status]") {
  struct Case {
    const char* name;
    json ds;
    bool ready;
  };
  const Case cases[] = {
      {"nothing to schedule", daemonset(1, 1, 0, 0, 0, 0), true},
      {"all updated and available", daemonset(2, 2, 3, 3, 3, 0), true},
      {"a pod unavailable", daemonset(2, 2, 3, 3, 2, 1), false},
      {"the controller has not seen the new generation", daemonset(3, 2, 3, 3, 3, 0), false},
      {"a rollout in progress", daemonset(2, 2, 3, 1, 3, 0), false},
      {"OnDelete ignores updated counts", daemonset(2, 2, 3, 1, 3, 0, "OnDelete"), true},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    CHECK(operand_readiness("x", &c.ds).ready == c.ready);
  }
  CHECK_FALSE(operand_readiness("x", nullptr).exists);
}

TEST_CASE("Status: ready, not ready, failed, with one True and one False condition", "[status]") {
  StatusInputs in;
  in.ns = "gpu-operator";
  in.generation = 4;
  in.now = kT0;
  json ready_ds = daemonset(1, 1, 2, 2, 2, 0);
  json rolling = daemonset(2, 2, 2, 1, 1, 1);
  in.operands = {operand_readiness("nvidia-device-plugin-daemonset", &ready_ds),
                 operand_readiness("gpu-feature-discovery", &rolling)};
  json not_ready = compute_status(in);
  CHECK(not_ready["state"] == "notReady");
  CHECK(not_ready["namespace"] == "gpu-operator");
  CHECK(not_ready["observedGeneration"] == 4);
  CHECK(not_ready["conditions"][0] == json({{"type", "Ready"}, {"status", "False"}, {"reason", "OperandNotReady"},
                                            {"message", "gpu-feature-discovery: 1/2 updated, 1/2 available"},
                                            {"lastTransitionTime", "2026-11-18T11:06:40Z"},
                                            {"observedGeneration", 4}}));
  CHECK(not_ready["conditions"][1]["type"] == "Error");
  CHECK(not_ready["conditions"][1]["status"] == "True");
  CHECK(not_ready["operands"]["gpu-feature-discovery"] ==
        json({{"desired", 2}, {"updated", 1}, {"available", 1}, {"ready", 1}}));

  // Ready later: the Ready condition's transition time moves, an unchanged one would not.
  in.operands[1] = operand_readiness("gpu-feature-discovery", &ready_ds);
  in.previous = not_ready;
  in.now = kT0 + std::chrono::minutes(1);
  json ready = compute_status(in);
  CHECK(ready["state"] == "ready");
  CHECK(ready["conditions"][0]["status"] == "True");
  CHECK(ready["conditions"][0]["reason"] == "Reconciled");
  CHECK(ready["conditions"][0]["lastTransitionTime"] == "2026-11-18T11:07:40Z");
  CHECK(ready["conditions"][1]["status"] == "False");
  // Every condition carries a message, as metav1.Condition requires: "" when there is nothing to say.
  CHECK(ready["conditions"][1]["message"] == "");

  // Recomputing with nothing new gives an identical status: nothing to write.
  in.previous = ready;
  in.now = kT0 + std::chrono::minutes(5);
  CHECK(compute_status(in) == ready);

  in.failure = Failure{"ReconcileFailed", "DaemonSet gpu-operator/x: forbidden"};
  json failed = compute_status(in);
  CHECK(failed["state"] == "notReady");
  CHECK(failed["conditions"][1]["reason"] == "ReconcileFailed");
  CHECK(failed["conditions"][1]["message"] == "DaemonSet gpu-operator/x: forbidden");

  StatusInputs none;
  none.any_gpu_node = false;
  none.now = kT0;
  CHECK(compute_status(none)["conditions"][0]["reason"] == "NoGPUNodes");
}

TEST_CASE("An ignored ClusterPolicy names the active one", "[status]") {
  json s = ignored_status("cluster-policy", "gpu-operator", 1, json::object(), kT0);
  CHECK(s["state"] == "ignored");
  CHECK(s["conditions"][0]["status"] == "False");
  CHECK(s["conditions"][0]["reason"] == "Ignored");
  CHECK(s["conditions"][1]["status"] == "True");
  CHECK(s["conditions"][1]["message"].get<std::string>().find("\"cluster-policy\" is active") != std::string::npos);
}

// The controller records an InvalidSpec Event only when the status does not say it yet:
// a message with quotes (a string value) must still be recognised, or every reconcile
// would repeat the Event.
TEST_CASE("A failure already in the status is recognised, quotes and all", "[status]") {
  StatusInputs in;
  in.now = kT0;
  const Failure invalid{"InvalidSpec", "spec.devicePlugin: expected an object, got string \"on\""};
  CHECK_FALSE(reports_failure(json::object(), invalid));
  CHECK_FALSE(reports_failure(compute_status(in), invalid));  // a status without that failure
  in.failure = invalid;
  const json failed = compute_status(in);
  CHECK(reports_failure(failed, invalid));
  CHECK_FALSE(reports_failure(failed, Failure{"InvalidSpec", "spec.gfd: expected an object, got string \"on\""}));
  CHECK_FALSE(reports_failure(failed, Failure{"RenderFailed", invalid.message}));
}
