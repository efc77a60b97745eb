// The ClusterPolicy controller: watches ClusterPolicies, the objects it owns,
// Nodes (metadata only), RuntimeClasses and ConfigMaps; every event maps to one
// reconcile key, so bursts coalesce. A reconcile reads only the caches, renders
// the desired objects (pure), applies what differs with server-side apply,
// labels GPU nodes, and writes the status when it changed.
#pragma once

#include <map>
#include <set>
#include <memory>
#include <string>

#include "clusterpolicy/config_rollout.hpp"
#include "clusterpolicy/render.hpp"
#include "clusterpolicy/status.hpp"
#include "kube/client.hpp"
#include "runtime/event_recorder.hpp"
#include "runtime/manager.hpp"
#include "runtime/metrics.hpp"

namespace cpo::clusterpolicy {

struct ControllerOptions {
  std::string ns;                                  // the operator namespace: operands live here
  OperandImages images;                            // defaults when the spec names none
  std::string field_manager = "clusterpolicy-operator";
  // A config rollout that makes no progress this long is rolled back. The
  // ClusterPolicy annotation kRolloutDeadlineAnnotation (e.g. "90s") overrides it.
  std::chrono::seconds rollout_deadline{600};
  runtime::Metrics* metrics = nullptr;  // for clusterpolicy_operator_config_{rejections,rollbacks}_total
};

class ClusterPolicyController {
 public:
  // Registers the informers and the controller with `manager`.
  ClusterPolicyController(kube::Client& client, runtime::Manager& manager, runtime::EventRecorder& events,
                          ControllerOptions options);
  ~ClusterPolicyController();

  runtime::ReconcileResult reconcile();

  struct Caches;

 private:
  ConfigInputs gather_config_inputs(const nlohmann::json& policy, const ClusterPolicySpec& spec,
                                    std::chrono::system_clock::time_point now) const;
  void report_config(const nlohmann::json& policy, const ConfigInputs& in, const ConfigDecision& decision,
                     StatusInputs& status, std::vector<std::string>& errors);
  // The status the server holds for `policy`: the cached one, unless the cache
  // has not yet caught up with the status this operator last wrote.
  nlohmann::json current_status(const nlohmann::json& policy) const;

 private:
  kube::Client& client_;
  runtime::EventRecorder& events_;
  ControllerOptions options_;
  std::unique_ptr<Caches> caches_;
  prometheus::Family<prometheus::Counter>* rejections_ = nullptr;
  prometheus::Family<prometheus::Counter>* rollbacks_ = nullptr;
  // The rollout record of each ClusterPolicy (by uid) as last decided. The
  // status holds the same for restarts, but the cache can lag behind our own
  // status write; deciding from a stale record would undo a rollback.
  std::map<std::string, RolloutRecord> records_;
  // The status last written for each ClusterPolicy (by uid), and every
  // resourceVersion that write supersedes (the ones our writes were based on
  // or produced before it): while the cache shows one of them, the written
  // status is what the server holds. Once the cache shows another version it
  // has caught up (or someone else wrote) and is believed again.
  struct WrittenStatus {
    std::set<std::string> superseded;
    std::string latest;  // resourceVersion our last write produced
    nlohmann::json status;
  };
  std::map<std::string, WrittenStatus> written_status_;
  // What was last reported about each ClusterPolicy's config (state, hash,
  // nodes selecting unknown keys): Events and counters fire on a change of it,
  // once, whether or not the status write that says the same got through.
  struct ConfigReport {
    std::string state;
    std::string hash;
    nlohmann::json unknown_nodes;
  };
  std::map<std::string, ConfigReport> reported_;
};

}  // namespace cpo::clusterpolicy
