#include "clusterpolicy/status.hpp"

#include <algorithm>
#include <ctime>

#include "apimachinery/nested.hpp"
#include "apimachinery/rfc3339.hpp"
#include "clusterpolicy/vocabulary.hpp"

namespace cpo::clusterpolicy {

namespace {

struct Verdict {
  bool status = false;
  std::string reason;
  std::string message;
};

nlohmann::json conditions(const Verdict& ready, const Verdict& error, const Verdict& progressing,
                          const Verdict& conflict, long generation, const nlohmann::json& previous,
                          const std::string& now) {
  return nlohmann::json::array(
      {make_condition(condition::kReady, ready.status, ready.reason, ready.message, generation, previous, now),
       make_condition(condition::kError, error.status, error.reason, error.message, generation, previous, now),
       make_condition(condition::kProgressing, progressing.status, progressing.reason, progressing.message,
                      generation, previous, now),
       make_condition(condition::kConflict, conflict.status, conflict.reason, conflict.message, generation, previous,
                      now)});
}

Verdict conflict_verdict(const StatusInputs& in) {
  if (in.held.empty()) return {false, reason::kNoConflict, "No other manager writes what this operator applies"};
  std::string message;
  for (const auto& h : in.held) {
    message += (message.empty() ? "" : "; ") + h.object + ": manager \"" + h.held.manager + "\" keeps writing " +
               h.held.field + "; " + h.until;
  }
  return {true, reason::kOperandConflict, message};
}

std::string nodes_text(const EffectReport& effect, NodeEffect state) {
  std::string text;
  if (auto listed = effect.listed.find(state); listed != effect.listed.end()) {
    for (const auto& v : listed->second) text += (text.empty() ? "" : "; ") + v.node + ": " + v.difference;
  }
  const std::size_t more = effect.count(state) - (text.empty() ? 0 : effect.listed.at(state).size());
  if (more > 0) text += (text.empty() ? "" : "; and ") + std::to_string(more) + " more";
  return text;
}

std::string effect_text(const StatusInputs& in, NodeEffect state, const char* what) {
  const auto& effect = *in.effect;
  return std::to_string(effect.count(state)) + " of " + std::to_string(effect.gpu_nodes) + " GPU nodes " + what +
         " config " + in.effect_config + ": " + nodes_text(effect, state);
}

Verdict ready_verdict(const StatusInputs& in, const std::vector<std::string>& not_ready) {
  if (in.failure) return {false, in.failure->reason, in.failure->message};
  if (!in.held.empty()) return {false, reason::kOperandConflict, conflict_verdict(in).message};
  if (!not_ready.empty()) {
    std::string message;
    for (std::size_t i = 0; i < not_ready.size(); ++i) message += (i ? "; " : "") + not_ready[i];
    return {false, reason::kOperandNotReady, message};
  }
  if (in.effect && in.effect->count(NodeEffect::Mismatched) > 0) {
    return {false, reason::kConfigMismatched, effect_text(in, NodeEffect::Mismatched, "do not show")};
  }
  if (in.effect && in.effect->count(NodeEffect::Pending) > 0) {
    return {false, reason::kConfigPending, effect_text(in, NodeEffect::Pending, "do not show yet")};
  }
  if (!in.any_gpu_node) {
    return {true, reason::kNoGpuNodes,
            std::string("No node has a GPU (label ") + kGpuPresentLabel + "=true); the operands wait for one"};
  }
  std::string message = "All operands are ready";
  if (in.effect && in.effect->gpu_nodes > 0) {
    message += "; config " + in.effect_config + " is in effect on " +
               std::to_string(in.effect->count(NodeEffect::InEffect)) + " of " +
               std::to_string(in.effect->gpu_nodes) + " GPU nodes";
    if (const auto unknown = in.effect->count(NodeEffect::Unknown)) {
      message += " (" + std::to_string(unknown) + " show no label of GPU Feature Discovery)";
    }
  }
  return {true, reason::kReconciled, message};
}

// Only what a person has to act on.
Verdict error_verdict(const StatusInputs& in) {
  if (in.failure && in.failure->reason != reason::kReconcileFailed) return {true, in.failure->reason, in.failure->message};
  if (in.failure && in.failing_since && in.now - *in.failing_since >= kPersistentFailure) {
    const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(in.now - *in.failing_since).count();
    return {true, in.failure->reason, "failing for " + std::to_string(seconds) + "s: " + in.failure->message};
  }
  if (!in.held.empty()) return conflict_verdict(in);
  if (in.effect && in.effect->count(NodeEffect::Mismatched) > 0) {
    return {true, reason::kConfigMismatched, effect_text(in, NodeEffect::Mismatched, "do not show")};
  }
  return {false, reason::kAsExpected, ""};
}

Verdict progressing_verdict(const StatusInputs& in) {
  if (in.failure && in.failure->reason != reason::kReconcileFailed && in.failure->reason != reason::kConfigInvalid &&
      in.failure->reason != reason::kConfigMissing) {
    return {false, in.failure->reason, "Nothing rolls out until this is resolved: " + in.failure->message};
  }
  std::string rolling;
  for (const auto& op : in.operands) {
    if (op.rolled_out()) continue;
    rolling += (rolling.empty() ? "" : "; ") + op.name + ": " +
               (op.exists ? std::to_string(op.updated) + "/" + std::to_string(op.desired) + " updated, " +
                                std::to_string(op.available) + "/" + std::to_string(op.desired) + " available"
                          : std::string("to be created"));
  }
  if (!rolling.empty() || in.config_rolling) {
    return {true, reason::kRollingOut, rolling.empty() ? "config " + in.effect_config + " is rolling out" : rolling};
  }
  if (in.effect && in.effect->count(NodeEffect::Pending) > 0) {
    return {true, reason::kConvergingOnNodes, effect_text(in, NodeEffect::Pending, "do not show yet")};
  }
  return {false, reason::kComplete, "Every operand runs its current template"};
}

}  // namespace

nlohmann::json make_condition(const std::string& type, bool status, const std::string& reason,
                              const std::string& message, long generation, const nlohmann::json& previous,
                              const std::string& now) {
  std::string status_text = status ? "True" : "False";
  std::string since = now;
  if (auto list = previous.find("conditions"); list != previous.end() && list->is_array()) {
    for (const auto& c : *list) {
      if (c.value("type", "") == type && c.value("status", "") == status_text) {
        since = c.value("lastTransitionTime", now);
      }
    }
  }
  return {{"type", type},       {"status", status_text},        {"reason", reason},
          {"message", message}, {"lastTransitionTime", since}, {"observedGeneration", generation}};
}


OperandReadiness operand_readiness(const std::string& name, const nlohmann::json* daemonset) {
  OperandReadiness r;
  r.name = name;
  if (!daemonset) return r;
  r.exists = true;
  using apimachinery::nested_int;
  const nlohmann::json& ds = *daemonset;
  r.desired = nested_int(ds, {"status", "desiredNumberScheduled"});
  r.updated = nested_int(ds, {"status", "updatedNumberScheduled"});
  r.available = nested_int(ds, {"status", "numberAvailable"});
  r.ready_pods = nested_int(ds, {"status", "numberReady"});
  const long unavailable = nested_int(ds, {"status", "numberUnavailable"});
  const long generation = nested_int(ds, {"metadata", "generation"});
  const long observed = nested_int(ds, {"status", "observedGeneration"});
  const std::string strategy = apimachinery::nested_string(ds, {"spec", "updateStrategy", "type"}, "RollingUpdate");
  r.observed = observed >= generation;
  r.on_delete = strategy == "OnDelete";
  if (r.desired == 0) {
    r.ready = observed >= generation;
  } else if (unavailable != 0) {
    r.ready = false;
  } else if (strategy == "RollingUpdate") {
    r.ready = observed >= generation && r.updated == r.desired && r.available == r.desired;
  } else {
    r.ready = r.available == r.desired;
  }
  return r;
}

nlohmann::json compute_status(const StatusInputs& in) {
  const std::string now = apimachinery::rfc3339(in.now);
  nlohmann::json status = nlohmann::json::object();
  status["namespace"] = in.ns;
  status["observedGeneration"] = in.generation;

  nlohmann::json operands = nlohmann::json::object();
  std::vector<std::string> not_ready;
  for (const auto& op : in.operands) {
    operands[op.name] = {{"desired", op.desired}, {"updated", op.updated}, {"available", op.available},
                         {"ready", op.ready_pods}};
    if (!op.exists) {
      not_ready.push_back(op.name + " is not created yet");
    } else if (!op.ready) {
      not_ready.push_back(op.name + ": " + std::to_string(op.updated) + "/" + std::to_string(op.desired) +
                          " updated, " + std::to_string(op.available) + "/" + std::to_string(op.desired) +
                          " available");
    }
  }
  status["operands"] = operands;

  const Verdict ready = ready_verdict(in, not_ready);
  status["state"] = ready.status ? "ready" : "notReady";
  status["conditions"] = conditions(ready, error_verdict(in), progressing_verdict(in), conflict_verdict(in),
                                    in.generation, in.previous, now);
  for (auto it = in.extra.begin(); it != in.extra.end(); ++it) status[it.key()] = *it;
  return status;
}

bool reports_failure(const nlohmann::json& status, const Failure& failure) {
  auto list = status.find("conditions");
  if (list == status.end() || !list->is_array()) return false;
  return std::any_of(list->begin(), list->end(), [&](const nlohmann::json& c) {
    return c.is_object() && c.value("type", "") == "Ready" && c.value("status", "") == "False" &&
           c.value("reason", "") == failure.reason && c.value("message", "") == failure.message;
  });
}

nlohmann::json ignored_status(const std::string& active_name, const std::string& ns, long generation,
                              const nlohmann::json& previous, std::chrono::system_clock::time_point now) {
  std::string message = "Only one ClusterPolicy is honoured: \"" + active_name +
                        "\" is active (the oldest); this one is ignored. Delete it, or merge its settings into \"" +
                        active_name + "\"";
  return {{"state", "ignored"},
          {"namespace", ns},
          {"observedGeneration", generation},
          {"conditions", conditions({false, reason::kIgnored, message}, {true, reason::kIgnored, message},
                                    {false, reason::kIgnored, message}, {false, reason::kIgnored, message},
                                    generation, previous, apimachinery::rfc3339(now))}};
}

}  // namespace cpo::clusterpolicy
