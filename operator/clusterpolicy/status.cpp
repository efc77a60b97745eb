#include "clusterpolicy/status.hpp"

#include <algorithm>
#include <ctime>

#include "apimachinery/nested.hpp"
#include "apimachinery/rfc3339.hpp"
#include "clusterpolicy/vocabulary.hpp"

namespace cpo::clusterpolicy {

namespace {

nlohmann::json conditions(bool ready, const std::string& why, const std::string& message, long generation,
                          const nlohmann::json& previous, const std::string& now) {
  return nlohmann::json::array(
      {make_condition(condition::kReady, ready, why, message, generation, previous, now),
       make_condition(condition::kError, !ready, why, ready ? "" : message, generation, previous, now)});
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

  bool ready = false;
  std::string reason;
  std::string message;
  if (in.failure) {
    reason = in.failure->reason;
    message = in.failure->message;
  } else if (!not_ready.empty()) {
    reason = reason::kOperandNotReady;
    for (std::size_t i = 0; i < not_ready.size(); ++i) message += (i ? "; " : "") + not_ready[i];
  } else if (!in.any_gpu_node) {
    ready = true;
    reason = reason::kNoGpuNodes;
    message = std::string("No node has a GPU (label ") + kGpuPresentLabel + "=true); the operands wait for one";
  } else {
    ready = true;
    reason = reason::kReconciled;
    message = "All operands are ready";
  }
  status["state"] = ready ? "ready" : "notReady";
  status["conditions"] = conditions(ready, reason, message, in.generation, in.previous, now);
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
          {"conditions", conditions(false, reason::kIgnored, message, generation, previous, apimachinery::rfc3339(now))}};
}

}  // namespace cpo::clusterpolicy
