// The ClusterPolicy controller: watches ClusterPolicies, the objects it owns,
// Nodes (slim: node_cache.hpp), RuntimeClasses and ConfigMaps; every event maps to one
// reconcile key, so bursts coalesce, and events that change nothing it reads
// (its own status writes, node changes that affects_policy and the capacity
// leave alone) are dropped. A reconcile observes the caches into the
// plan's inputs, plans (pure, plan.hpp: the objects to apply and delete with
// server-side apply, snapshots, Events and the status), and executes the plan,
// writing the status when it changed. Node labels are the node label
// controller's (node_label_controller.hpp).
#pragma once

#include <map>
#include <set>
#include <memory>
#include <optional>
#include <string>

#include "clusterpolicy/config_rollout.hpp"
#include "clusterpolicy/plan.hpp"
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
  // A GPU node may disagree this long with a config rolled out everywhere before it
  // is reported Mismatched. The annotation kEffectGracePeriodAnnotation overrides it.
  std::chrono::seconds effect_grace{120};
  // An operand held because another manager keeps writing it is applied again
  // once that manager has been quiet this long (doubling each time it is held
  // again). The annotation kConflictQuietPeriodAnnotation overrides it.
  std::chrono::seconds conflict_quiet{300};
  runtime::Metrics* metrics = nullptr;  // for the clusterpolicy_operator_config_* metrics
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
  // Observe: the caches read into the plan's inputs (std::nullopt: no ClusterPolicy).
  std::optional<ReconcileInputs> observe();
  void forget(const std::vector<nlohmann::json>& policies);
  // The status the server holds for `policy`: the cached one, unless the cache
  // has not yet caught up with the status this operator last wrote.
  nlohmann::json current_status(const nlohmann::json& policy) const;

  // Execute: the only code that writes to the API, records Events and counts.
  runtime::ReconcileResult execute(const ObservedPolicy& active, const Plan& plan, std::vector<std::string>& errors);
  void record(const PlannedEvent& event);
  void write_status(const nlohmann::json& policy, const nlohmann::json& previous, const nlohmann::json& status,
                    std::vector<std::string>& errors);
  bool create_snapshot(const SnapshotCreate& snapshot, std::vector<std::string>& errors);
  void apply_objects(const nlohmann::json& policy, const Plan& plan, std::vector<std::string>& errors);
  void delete_objects(const nlohmann::json& policy, const Plan& plan, std::vector<std::string>& errors);
  void prune_snapshots(const Plan& plan, std::vector<std::string>& errors);
  void count(const Plan& plan);

  kube::Client& client_;
  runtime::EventRecorder& events_;
  ControllerOptions options_;
  std::unique_ptr<Caches> caches_;
  prometheus::Family<prometheus::Counter>* rejections_ = nullptr;
  prometheus::Family<prometheus::Counter>* rollbacks_ = nullptr;
  prometheus::Family<prometheus::Gauge>* effect_nodes_ = nullptr;
  prometheus::Family<prometheus::Counter>* conflicts_ = nullptr;
  prometheus::Family<prometheus::Gauge>* held_ = nullptr;

  // The status last written for a ClusterPolicy, and every resourceVersion that
  // write supersedes (the ones our writes were based on or produced before it):
  // while the cache shows one of them, the written status is what the server
  // holds. Once the cache shows another version it has caught up (or someone
  // else wrote) and is believed again.
  struct WrittenStatus {
    std::set<std::string> superseded;
    std::string latest;  // resourceVersion our last write produced
    nlohmann::json status;
  };
  // What the controller remembers of one ClusterPolicy between reconciles.
  struct PolicyState {
    // The rollout record as last decided. The status holds the same for
    // restarts, but the cache can lag behind our own status write; deciding
    // from a stale record would undo a rollback.
    std::optional<RolloutRecord> record;
    std::optional<ConfigReport> reported;  // the config as last reported (Events fire on a change)
    std::optional<EffectMemory> effect;     // the config's effect as last reported, grace clocks
    std::optional<ConflictMemory> conflicts;  // who writes the operands, which are held
    std::optional<std::chrono::system_clock::time_point> failing_since;  // reconciles fail since
    std::optional<WrittenStatus> written;
  };
  std::map<std::string, PolicyState> state_;  // by uid
};

}  // namespace cpo::clusterpolicy
