#include "clusterpolicy/controller.hpp"

#include <algorithm>
#include <future>

#include <spdlog/spdlog.h>

#include "apimachinery/merge_patch.hpp"
#include "clusterpolicy/node_cache.hpp"
#include "clusterpolicy/node_labels.hpp"
#include "clusterpolicy/plan.hpp"
#include "clusterpolicy/vocabulary.hpp"

namespace cpo::clusterpolicy {

namespace {

constexpr const char* kReconcileKey = "cluster-policy";
// How long events that come in bursts (nodes joining or relabelled, operand pods
// rolling) are gathered before the ClusterPolicy is reconciled for them: a burst
// costs a few reconciles, not one per event.
constexpr std::chrono::milliseconds kEventBatch{1000};

// Whether an update of a ClusterPolicy is more than a status write (ours, mostly):
// those bring nothing to reconcile.
bool beyond_status(const nlohmann::json& before, const nlohmann::json& after) {
  auto without_status = [](nlohmann::json object) {
    object.erase("status");
    if (auto meta = object.find("metadata"); meta != object.end() && meta->is_object()) {
      meta->erase("resourceVersion");
      meta->erase("managedFields");
    }
    return object;
  };
  return without_status(before) != without_status(after);
}

runtime::EventType event_type(EventKind kind) {
  return kind == EventKind::Warning ? runtime::EventType::Warning : runtime::EventType::Normal;
}

}  // namespace

struct ClusterPolicyController::Caches {
  runtime::Informer* policies = nullptr;
  runtime::Informer* daemonsets = nullptr;
  runtime::Informer* serviceaccounts = nullptr;
  runtime::Informer* clusterroles = nullptr;
  runtime::Informer* clusterrolebindings = nullptr;
  runtime::Informer* nodes = nullptr;
  runtime::Informer* runtimeclasses = nullptr;
  runtime::Informer* configmaps = nullptr;
  runtime::Controller* controller = nullptr;

  // The cache and resource for a kind we render.
  std::pair<runtime::Informer*, const kube::Resource*> owned(const std::string& kind) const {
    if (kind == "DaemonSet") return {daemonsets, &kube::resources::daemonsets};
    if (kind == "ServiceAccount") return {serviceaccounts, &kube::resources::serviceaccounts};
    if (kind == "ClusterRole") return {clusterroles, &kube::resources::clusterroles};
    if (kind == "ClusterRoleBinding") return {clusterrolebindings, &kube::resources::clusterrolebindings};
    throw std::logic_error("render produced a kind the controller does not watch: " + kind);
  }
  std::vector<runtime::Informer*> owned_informers() const {
    return {serviceaccounts, clusterroles, clusterrolebindings, daemonsets};
  }
};

ClusterPolicyController::ClusterPolicyController(kube::Client& client, runtime::Manager& manager,
                                                 runtime::EventRecorder& events, ControllerOptions options)
    : client_(client), events_(events), options_(std::move(options)), caches_(std::make_unique<Caches>()) {
  auto& c = *caches_;
  if (options_.metrics) {
    rejections_ = &prometheus::BuildCounter()
                       .Name("clusterpolicy_operator_config_rejections_total")
                       .Help("Device-plugin config edits rejected by validation, by ConfigMap")
                       .Register(options_.metrics->registry());
    rollbacks_ = &prometheus::BuildCounter()
                      .Name("clusterpolicy_operator_config_rollbacks_total")
                      .Help("Config rollouts rolled back after making no progress for the rollout deadline, by ConfigMap")
                      .Register(options_.metrics->registry());
    effect_nodes_ = &prometheus::BuildGauge()
                         .Name("clusterpolicy_operator_config_effect_nodes")
                         .Help("GPU nodes by whether the device-plugin config the consumers mount is in effect on "
                               "them (state: InEffect, Pending, Mismatched, Unknown)")
                         .Register(options_.metrics->registry());
    conflicts_ = &prometheus::BuildCounter()
                      .Name("clusterpolicy_operator_operand_conflicts_total")
                      .Help("Times an operand was held (no longer re-applied) because another manager kept "
                            "writing fields this operator applies, by kind")
                      .Register(options_.metrics->registry());
    held_ = &prometheus::BuildGauge()
                 .Name("clusterpolicy_operator_operands_held")
                 .Help("Operands held now because another manager writes them (see the Conflict condition)")
                 .Register(options_.metrics->registry());
  }
  // One worker: every event maps to the one key, which a queue never hands to two workers.
  c.controller = &manager.add_controller("clusterpolicy", [this](const std::string&) { return reconcile(); });
  auto enqueue = [queue = &c.controller->queue()] { queue->add(kReconcileKey); };
  auto enqueue_batched = [queue = &c.controller->queue()] { queue->add_after(kReconcileKey, kEventBatch); };
  runtime::EventHandler any_change{[enqueue](const runtime::ObjectPtr&) { enqueue(); },
                                   [enqueue](const runtime::ObjectPtr&, const runtime::ObjectPtr&) { enqueue(); },
                                   [enqueue](const runtime::ObjectPtr&) { enqueue(); }};
  // The objects it owns keep managedFields: who else writes them (conflict.hpp).
  auto owned = [&](std::string ns) {
    return runtime::InformerOptions{.ns = std::move(ns), .label_selector = kManagedBySelector, .keep_managed_fields = true};
  };
  auto watch = [&](const kube::Resource& resource, runtime::InformerOptions informer_options,
                   const runtime::EventHandler& handler) {
    auto& informer = manager.add_informer(resource, std::move(informer_options));
    informer.add_handler(handler);
    return &informer;
  };
  c.policies = watch(kube::resources::clusterpolicies, {},
                     {any_change.on_add,
                      [enqueue](const runtime::ObjectPtr& before, const runtime::ObjectPtr& after) {
                        if (beyond_status(*before, *after)) enqueue();
                      },
                      any_change.on_delete});
  // An operand DaemonSet changed by someone is looked at at once (repair, conflicts);
  // its status moving as pods roll is gathered.
  c.daemonsets = watch(kube::resources::daemonsets, owned(options_.ns),
                       {any_change.on_add,
                        [enqueue, enqueue_batched](const runtime::ObjectPtr& before, const runtime::ObjectPtr& after) {
                          beyond_status(*before, *after) ? enqueue() : enqueue_batched();
                        },
                        any_change.on_delete});
  c.serviceaccounts = watch(kube::resources::serviceaccounts, owned(options_.ns), any_change);
  c.clusterroles = watch(kube::resources::clusterroles, owned(""), any_change);
  c.clusterrolebindings = watch(kube::resources::clusterrolebindings, owned(""), any_change);
  c.runtimeclasses = watch(kube::resources::runtimeclasses, {.metadata_only = true}, any_change);
  c.configmaps = watch(kube::resources::configmaps, {.ns = options_.ns}, any_change);

  // Nodes (shared with the node label controller, which labels them): a node
  // matters here when it comes, goes, or changes what the plan reads of it. Node
  // events come in bursts (a rack joining, a label rolled out to the fleet): they
  // are gathered.
  c.nodes = &watch_nodes(manager);
  c.nodes->add_handler({[enqueue_batched](const runtime::ObjectPtr&) { enqueue_batched(); },
                        [enqueue_batched](const runtime::ObjectPtr& before, const runtime::ObjectPtr& after) {
                          if (affects_policy(labels_of(*before), labels_of(*after)) ||
                              capacity_changed(*before, *after)) {
                            enqueue_batched();
                          }
                        },
                        [enqueue_batched](const runtime::ObjectPtr&) { enqueue_batched(); }});
}

ClusterPolicyController::~ClusterPolicyController() = default;

// The one cleanup of the per-ClusterPolicy state: what is known of
// ClusterPolicies that are gone is forgotten, and so is a written status the
// cache has caught up with.
void ClusterPolicyController::forget(const std::vector<nlohmann::json>& policies) {
  for (auto entry = state_.begin(); entry != state_.end();) {
    const auto policy = std::find_if(policies.begin(), policies.end(), [&](const auto& p) {
      return p["metadata"].value("uid", "") == entry->first;
    });
    if (policy == policies.end()) {
      entry = state_.erase(entry);
      continue;
    }
    auto& written = entry->second.written;
    if (written && !written->superseded.count((*policy)["metadata"].value("resourceVersion", ""))) written.reset();
    ++entry;
  }
}

nlohmann::json ClusterPolicyController::current_status(const nlohmann::json& policy) const {
  const auto& meta = policy["metadata"];
  if (auto known = state_.find(meta.value("uid", "")); known != state_.end()) {
    const auto& written = known->second.written;
    if (written && written->superseded.count(meta.value("resourceVersion", ""))) return written->status;
  }
  return policy.value("status", nlohmann::json::object());
}

std::optional<ReconcileInputs> ClusterPolicyController::observe() {
  const auto& c = *caches_;
  std::vector<nlohmann::json> policies;
  for (const auto& policy : c.policies->store().list()) policies.push_back(*policy);
  forget(policies);
  if (policies.empty()) return std::nullopt;
  oldest_first(policies);
  ReconcileInputs in;
  in.ns = options_.ns;
  in.images = options_.images;
  in.rollout_deadline = options_.rollout_deadline;
  in.effect_grace = options_.effect_grace;
  in.conflict_quiet = options_.conflict_quiet;
  in.field_manager = options_.field_manager;
  in.now = std::chrono::system_clock::now();
  for (auto& policy : policies) {
    nlohmann::json status = current_status(policy);
    in.policies.push_back({std::move(policy), std::move(status)});
  }
  in.nodes = c.nodes->store().list();
  for (const auto& rc : c.runtimeclasses->store().list()) in.runtime_classes.insert((*rc)["metadata"].value("name", ""));
  in.configmaps = c.configmaps->store().list();
  for (auto* informer : c.owned_informers()) {
    for (auto& live : informer->store().list()) in.owned.push_back({informer->resource().kind, std::move(live)});
  }
  const auto& state = state_[in.policies.front().object["metadata"].value("uid", "")];
  in.record = state.record;
  in.reported = state.reported;
  in.effect = state.effect;
  in.conflicts = state.conflicts;
  in.failing_since = state.failing_since;
  return in;
}

void ClusterPolicyController::record(const PlannedEvent& event) {
  events_.record(event.target, event_type(event.kind), event.reason, event.message);
}

void ClusterPolicyController::write_status(const nlohmann::json& policy, const nlohmann::json& previous,
                                           const nlohmann::json& status, std::vector<std::string>& errors) {
  if (previous == status) return;
  const std::string name = policy["metadata"]["name"];
  try {
    auto written = client_.patch(kube::resources::clusterpolicies, {"", name, "status"}, kube::PatchType::Merge,
                                 {{"status", apimachinery::merge_patch_between(previous, status)}});
    auto& entry = state_[policy["metadata"].value("uid", "")].written;
    if (!entry) entry.emplace();
    entry->superseded.insert(policy["metadata"].value("resourceVersion", ""));
    if (!entry->latest.empty()) entry->superseded.insert(entry->latest);
    entry->latest = written["metadata"].value("resourceVersion", "");
    entry->status = written.value("status", nlohmann::json::object());
  } catch (const std::exception& e) {
    errors.push_back("status of ClusterPolicy " + name + ": " + e.what());
  }
}

bool ClusterPolicyController::create_snapshot(const SnapshotCreate& snapshot, std::vector<std::string>& errors) {
  auto failed = [&](const std::string& why) {
    errors.push_back("creating snapshot " + snapshot.name + ": " + why);
    return false;
  };
  try {
    client_.create(kube::resources::configmaps, snapshot.object, {options_.field_manager});
    spdlog::info("created config snapshot {}/{}", options_.ns, snapshot.name);
  } catch (const kube::ApiError& e) {
    if (!e.is_already_exists()) return failed(e.message());
  } catch (const std::exception& e) {
    return failed(e.what());
  }
  return true;
}

// The applies: prerequisites (ServiceAccounts, RBAC) first, then the
// DaemonSets in parallel, so a config change reaches every consumer in about
// one write's time. The Events follow once every apply is done, so Event writes
// never compete with the applies a rollout waits for.
void ClusterPolicyController::apply_objects(const nlohmann::json& policy, const Plan& plan,
                                            std::vector<std::string>& errors) {
  auto apply_one = [this, &policy](const Apply& a) -> std::pair<std::string, PlannedEvent> {
    const std::string what = a.kind + " " + a.key;
    try {
      client_.apply(*caches_->owned(a.kind).second, a.object, options_.field_manager, /*force=*/true);
      if (a.exists) {
        spdlog::info("updated {} ({} differed)", what, a.difference);
      } else {
        spdlog::info("created {}", what);
      }
      return {"", {policy, EventKind::Normal, a.exists ? event_reason::kUpdated : event_reason::kCreated,
                   a.event_message}};
    } catch (const kube::ApiError& e) {
      return {what + ": " + e.message(),
              {policy, EventKind::Warning, event_reason::kApplyFailed, "Applying " + what + " failed: " + e.message()}};
    } catch (const std::exception& e) {
      return {what + ": " + e.what(),
              {policy, EventKind::Warning, event_reason::kApplyFailed, "Applying " + what + " failed: " + e.what()}};
    }
  };
  std::vector<std::pair<std::string, PlannedEvent>> outcomes;
  std::vector<std::future<std::pair<std::string, PlannedEvent>>> daemonsets;
  for (const auto& a : plan.applies) {
    if (a.kind != "DaemonSet") outcomes.push_back(apply_one(a));
  }
  for (const auto& a : plan.applies) {
    if (a.kind == "DaemonSet") daemonsets.push_back(std::async(std::launch::async, apply_one, std::cref(a)));
  }
  for (auto& f : daemonsets) outcomes.push_back(f.get());
  for (const auto& [error, event] : outcomes) {
    if (!error.empty()) errors.push_back(error);
    record(event);
  }
}

void ClusterPolicyController::delete_objects(const nlohmann::json& policy, const Plan& plan,
                                             std::vector<std::string>& errors) {
  for (const auto& d : plan.deletes) {
    const std::string what = d.kind + " " + (d.ns.empty() ? d.name : d.ns + "/" + d.name);
    try {
      kube::DeleteOptions del;
      del.precondition_uid = d.uid;
      del.propagation_policy = "Background";
      client_.remove(*caches_->owned(d.kind).second, {d.ns, d.name, ""}, del);
      spdlog::info("deleted {}", what);
      events_.record(policy, runtime::EventType::Normal, event_reason::kDeleted, "Deleted " + what);
    } catch (const kube::ApiError& e) {
      if (!e.is_not_found()) errors.push_back("deleting " + what + ": " + e.message());
    }
  }
}

void ClusterPolicyController::prune_snapshots(const Plan& plan, std::vector<std::string>& errors) {
  for (const auto& name : plan.prune) {
    try {
      client_.remove(kube::resources::configmaps, {options_.ns, name, ""});
      spdlog::info("deleted old config snapshot {}/{}", options_.ns, name);
    } catch (const kube::ApiError& e) {
      if (!e.is_not_found()) errors.push_back("deleting snapshot " + name + ": " + e.message());
    }
  }
}

void ClusterPolicyController::count(const Plan& plan) {
  if (plan.count_rejection && rejections_) rejections_->Add({{"configmap", plan.config_source}}).Increment();
  if (plan.count_rollback && rollbacks_) rollbacks_->Add({{"configmap", plan.config_source}}).Increment();
  if (conflicts_) {
    for (const auto& kind : plan.held_kinds) conflicts_->Add({{"kind", kind}}).Increment();
  }
  if (held_) held_->Add({}).Set(static_cast<double>(plan.status_inputs.held.size()));
  if (!effect_nodes_) return;
  for (auto state : {NodeEffect::InEffect, NodeEffect::Pending, NodeEffect::Mismatched, NodeEffect::Unknown}) {
    std::size_t nodes = 0;
    if (plan.effect_counts) {
      if (auto it = plan.effect_counts->find(state); it != plan.effect_counts->end()) nodes = it->second;
    }
    effect_nodes_->Add({{"state", std::string(to_string(state))}}).Set(static_cast<double>(nodes));
  }
}

runtime::ReconcileResult ClusterPolicyController::reconcile() {
  auto in = observe();
  if (!in) return runtime::ReconcileResult::done();
  Plan planned = plan(*in);
  std::vector<std::string> errors;
  for (const auto& ignored : planned.ignored) {
    if (ignored.event) record(*ignored.event);
    write_status(ignored.object, ignored.previous, ignored.status, errors);
  }
  // The snapshot goes before the DaemonSets that mount it. When it cannot be
  // created, the rest is planned again on the last good one (the ignored
  // ClusterPolicies are done).
  if (planned.snapshot && !create_snapshot(*planned.snapshot, errors)) {
    in->snapshot_failure = errors.back();
    planned = plan(*in);
  }
  auto& state = state_[in->policies.front().object["metadata"].value("uid", "")];
  if (planned.record) state.record = planned.record;
  return execute(in->policies.front(), planned, errors);
}

// What follows the snapshot: the applies, deletes, Events, counters, pruning and the status.
runtime::ReconcileResult ClusterPolicyController::execute(const ObservedPolicy& active, const Plan& planned,
                                                          std::vector<std::string>& errors) {
  if (planned.halted) {
    for (const auto& event : planned.events) record(event);
    write_status(active.object, active.status, planned.status, errors);
    if (planned.render_error) throw std::runtime_error(*planned.render_error);
    if (!errors.empty()) return runtime::ReconcileResult::failed(summarize(errors));
    return runtime::ReconcileResult::done();  // a spec edit brings the next reconcile
  }
  apply_objects(active.object, planned, errors);
  delete_objects(active.object, planned, errors);
  for (const auto& event : planned.events) record(event);
  count(planned);
  prune_snapshots(planned, errors);
  auto& state = state_[active.object["metadata"].value("uid", "")];
  if (planned.reported) state.reported = planned.reported;
  if (planned.effect) state.effect = planned.effect;
  if (planned.conflicts) state.conflicts = planned.conflicts;
  write_status(active.object, active.status, status_after(planned, errors), errors);
  if (errors.empty()) {
    state.failing_since.reset();
  } else if (!state.failing_since) {
    state.failing_since = std::chrono::system_clock::now();
  }
  // Retried with backoff; a rollout deadline is still checked on time, however
  // long the backoff has grown.
  if (!errors.empty()) return runtime::ReconcileResult::failed(summarize(errors), planned.check_again);
  if (planned.check_again) return runtime::ReconcileResult::after(*planned.check_again);
  return runtime::ReconcileResult::done();
}

}  // namespace cpo::clusterpolicy
