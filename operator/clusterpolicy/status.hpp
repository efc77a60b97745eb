// The ClusterPolicy status, computed from what the caches hold (pure).
//
// `state` is ready | notReady | ignored. The conditions follow the Kubernetes API
// conventions, each with a reason and a message a person can act on:
//   Ready        the operands are available and the config is in effect on the nodes;
//   Error        something needs a person (an invalid spec or config, a rollback,
//                nodes that disagree with the config, API errors that persist) —
//                never an ordinary rollout, so alerting on it is safe;
//   Progressing  a rollout or the nodes' convergence is in flight, with what is left;
//   Conflict     another manager keeps writing an operand, which is held (not re-applied).
// ConfigValid joins them when a device-plugin config is wired (plan_config.hpp).
// lastTransitionTime moves only when a condition's status changes, so an
// unchanged status is byte-for-byte equal and never written again.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "clusterpolicy/conflict.hpp"
#include "clusterpolicy/effect.hpp"


namespace cpo::clusterpolicy {

// One operand DaemonSet as its status reports it.
struct OperandReadiness {
  std::string name;
  bool exists = false;
  long desired = 0;    // desiredNumberScheduled
  long updated = 0;    // updatedNumberScheduled
  long available = 0;  // numberAvailable
  long ready_pods = 0; // numberReady
  bool ready = false;  // the rollout-status rule
  bool observed = false;   // the DaemonSet controller has seen the newest generation
  bool on_delete = false;  // updateStrategy OnDelete: pods change only when deleted
  // Every pod runs the current template and is available (whatever the strategy).
  bool rolled_out() const { return observed && updated == desired && available == desired && ready; }
};

// The upstream (and `kubectl rollout status`) readiness rule: ready when nothing
// is to be scheduled, or nothing is unavailable and, for RollingUpdate, the
// controller has seen the newest generation and every pod is updated and available.
OperandReadiness operand_readiness(const std::string& name, const nlohmann::json* daemonset);

// Why the policy is not ready, when something failed before readiness matters.
struct Failure {
  std::string reason;   // ReconcileFailed, InvalidSpec, ...
  std::string message;
};

// An operand not re-applied because another manager keeps writing it (conflict.hpp).
struct HeldOperand {
  std::string object;  // "DaemonSet gpu-operator/nvidia-device-plugin-daemonset"
  Held held;
  std::string until;   // when and how it is applied again, in words
};

struct StatusInputs {
  std::string ns;
  long generation = 0;
  std::vector<OperandReadiness> operands;  // only the enabled ones
  std::optional<Failure> failure;
  bool any_gpu_node = true;
  nlohmann::json extra = nlohmann::json::object();  // merged into status (e.g. config rollout details)
  nlohmann::json previous = nlohmann::json::object();  // the status as it is now
  std::chrono::system_clock::time_point now;
  // The effect of config `effect_config` on the GPU nodes (unset: not verified).
  std::optional<EffectReport> effect;
  std::string effect_config;
  bool config_rolling = false;  // a config rollout is in flight
  // Since when reconciles fail: API errors become an Error once they persist this long.
  std::optional<std::chrono::system_clock::time_point> failing_since;
  std::vector<HeldOperand> held;
};

// How long reconcile errors last before they are an Error, not a retry.
inline constexpr std::chrono::seconds kPersistentFailure{60};

nlohmann::json compute_status(const StatusInputs& in);

// Whether `status` already reports `failure`: its Ready condition is False with the
// same reason and message. A failure that is already reported gets no new Event.
bool reports_failure(const nlohmann::json& status, const Failure& failure);
// A condition of `type`, keeping lastTransitionTime from the `previous` status when
// its status (True/False) is unchanged; `now` (RFC 3339) otherwise.
nlohmann::json make_condition(const std::string& type, bool status, const std::string& reason,
                              const std::string& message, long generation, const nlohmann::json& previous,
                              const std::string& now);

// The status of a ClusterPolicy that is not the active one.
nlohmann::json ignored_status(const std::string& active_name, const std::string& ns, long generation,
                              const nlohmann::json& previous, std::chrono::system_clock::time_point now);

}  // namespace cpo::clusterpolicy
