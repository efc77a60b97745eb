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

TEST_CASE("Status: ready, not ready, failed, with transition times kept", "[status]") {
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
  // An ordinary rollout is no error: alerts on Error stay quiet.
  CHECK(not_ready["conditions"][1]["type"] == "Error");
  CHECK(not_ready["conditions"][1]["status"] == "False");
  CHECK(not_ready["conditions"][2]["type"] == "Progressing");
  CHECK(not_ready["conditions"][2]["status"] == "True");
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
  CHECK(failed["conditions"][0]["reason"] == "ReconcileFailed");
  CHECK(failed["conditions"][0]["message"] == "DaemonSet gpu-operator/x: forbidden");

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

namespace {

// The GPU-node effect of a config: `pending` and `mismatched` of `nodes`, the rest in effect.
EffectReport effect(std::size_t nodes, std::size_t pending, std::size_t mismatched, std::size_t unknown = 0) {
  EffectReport r;
  r.gpu_nodes = nodes;
  r.counts = {{NodeEffect::InEffect, nodes - pending - mismatched - unknown},
              {NodeEffect::Pending, pending},
              {NodeEffect::Mismatched, mismatched},
              {NodeEffect::Unknown, unknown}};
  if (pending) r.listed[NodeEffect::Pending] = {{"gpu-1", NodeEffect::Pending, "nvidia.com/gpu.replicas is 2, config mps-four says 4"}};
  if (mismatched) r.listed[NodeEffect::Mismatched] = {{"gpu-7", NodeEffect::Mismatched, "nvidia.com/gpu.replicas is 2, config mps-four says 4"}};
  return r;
}

}  // namespace

TEST_CASE("Conditions: Error only for what needs a person, Progressing for what is in flight", "[status]") {
  json ready_ds = daemonset(1, 1, 2, 2, 2, 0);
  json rolling_ds = daemonset(2, 2, 2, 1, 1, 1);
  struct Case {
    const char* name;
    bool rolling = false;
    std::optional<Failure> failure;
    std::optional<std::chrono::seconds> failing_for;
    std::optional<EffectReport> effect;
    const char* ready;
    const char* error;
    const char* progressing;  // reasons; the status is in the reason's meaning
    bool ready_status, error_status, progressing_status;
    bool held = false;  // another manager keeps writing an operand
  };
  const Case cases[] = {
      {"all ready", false, {}, {}, {}, "Reconciled", "AsExpected", "Complete", true, false, false},
      {"a rollout", true, {}, {}, {}, "OperandNotReady", "AsExpected", "RollingOut", false, false, true},
      {"nodes catching up", false, {}, {}, effect(4, 1, 0), "ConfigPending", "AsExpected", "ConvergingOnNodes",
       false, false, true},
      {"a node disagrees past the grace period", false, {}, {}, effect(4, 0, 1), "ConfigMismatched",
       "ConfigMismatched", "Complete", false, true, false},
      {"in effect, one node without GFD labels", false, {}, {}, effect(4, 0, 0, 1), "Reconciled", "AsExpected",
       "Complete", true, false, false},
      {"an invalid config edit", false, Failure{"ConfigInvalid", "bad"}, {}, {}, "ConfigInvalid", "ConfigInvalid",
       "Complete", false, true, false},
      {"a rollback", false, Failure{"RolloutFailed", "rolled back"}, {}, {}, "RolloutFailed", "RolloutFailed",
       "RolloutFailed", false, true, false},
      {"an invalid spec", false, Failure{"InvalidSpec", "spec.gfd"}, {}, {}, "InvalidSpec", "InvalidSpec",
       "InvalidSpec", false, true, false},
      {"an API error, retried", false, Failure{"ReconcileFailed", "conflict"}, std::chrono::seconds(5), {},
       "ReconcileFailed", "AsExpected", "Complete", false, false, false},
      {"an API error that persists", false, Failure{"ReconcileFailed", "forbidden"}, std::chrono::seconds(90), {},
       "ReconcileFailed", "ReconcileFailed", "Complete", false, true, false},
      {"another manager keeps writing an operand", false, {}, {}, {}, "OperandConflict", "OperandConflict",
       "Complete", false, true, false, true},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    StatusInputs in;
    in.now = kT0;
    in.operands = {operand_readiness("gpu-feature-discovery", c.rolling ? &rolling_ds : &ready_ds)};
    in.failure = c.failure;
    if (c.failing_for) in.failing_since = kT0 - *c.failing_for;
    in.effect = c.effect;
    in.effect_config = "abc123";
    if (c.held) {
      in.held = {{"DaemonSet gpu-operator/gpu-feature-discovery",
                  Held{"gpu-operator", "spec.template.spec.containers[name=gfd].image", kT0, kT0, 1}, "until later"}};
    }
    const json conditions = compute_status(in)["conditions"];
    REQUIRE(conditions.size() == 4);
    CHECK(conditions[0]["reason"] == c.ready);
    CHECK(conditions[0]["status"] == (c.ready_status ? "True" : "False"));
    CHECK(conditions[1]["reason"] == c.error);
    CHECK(conditions[1]["status"] == (c.error_status ? "True" : "False"));
    CHECK(conditions[2]["reason"] == c.progressing);
    CHECK(conditions[2]["status"] == (c.progressing_status ? "True" : "False"));
    CHECK(conditions[3]["type"] == "Conflict");
    CHECK(conditions[3]["reason"] == (c.held ? "OperandConflict" : "NoConflict"));
    CHECK(conditions[3]["status"] == (c.held ? "True" : "False"));
  }
}

TEST_CASE("Conditions name the nodes that disagree and what they show", "[status]") {
  StatusInputs in;
  in.now = kT0;
  in.effect = effect(4, 0, 1);
  in.effect_config = "abc123";
  const json conditions = compute_status(in)["conditions"];
  CHECK(conditions[1]["message"] ==
        "1 of 4 GPU nodes do not show config abc123: gpu-7: nvidia.com/gpu.replicas is 2, config mps-four says 4");
  in.effect = effect(4, 0, 0);
  CHECK(compute_status(in)["conditions"][0]["message"] ==
        "All operands are ready; config abc123 is in effect on 4 of 4 GPU nodes");
}
