// Plan: one reconcile's decisions, pure. The controller observes the caches into
// ReconcileInputs, plan() turns them into a Plan value (objects to apply and
// delete, the config snapshot to create and those to prune,
// the Events and the status to write), and the controller executes it. What
// execution changes (a failed write) is fed back: status_after() adds the errors
// to the status, and a failed snapshot creation is planned again with
// `snapshot_failure` set.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "clusterpolicy/config_rollout.hpp"
#include "clusterpolicy/conflict.hpp"
#include "clusterpolicy/effect.hpp"
#include "clusterpolicy/render.hpp"
#include "clusterpolicy/status.hpp"

namespace cpo::clusterpolicy {

// What was last reported about a ClusterPolicy's config: Events and counters fire
// on a change of it, once, whether or not the status write saying the same got through.
struct ConfigReport {
  std::string state;
  std::string hash;
  nlohmann::json unknown_nodes;
  bool operator==(const ConfigReport&) const = default;
};

// What was last reported about the config's effect on the nodes, and since when
// each disagreeing node disagrees (its grace clock).
struct EffectMemory {
  std::map<std::string, std::chrono::system_clock::time_point> disagreeing_since;
  std::set<std::string> mismatched;  // the Warning about them fired
  std::string in_effect_hash;        // the Normal Event for it fired
  bool operator==(const EffectMemory&) const = default;
};

// What is remembered of the operands' writers (conflict.hpp), by "Kind key".
struct ConflictMemory {
  std::map<std::string, ObjectHistory> objects;
  std::string resume_token;  // the resume annotation's value last honoured
  bool operator==(const ConflictMemory&) const = default;
};

// A cached object, shared with the cache.
using Cached = std::shared_ptr<const nlohmann::json>;

// An object of a kind the operator renders, as the cache holds it (its items carry no kind).
struct OwnedObject {
  std::string kind;
  Cached object;
};

struct ObservedPolicy {
  nlohmann::json object;
  nlohmann::json status;  // what the server holds: possibly newer than object's own
};

struct ReconcileInputs {
  std::string ns;
  OperandImages images;
  std::chrono::seconds rollout_deadline{600};
  std::chrono::seconds effect_grace{120};       // a node may disagree this long before it is Mismatched
  std::chrono::seconds conflict_quiet{300};     // another writer's silence before a held operand is applied again
  std::string field_manager = "clusterpolicy-operator";  // ours, in managedFields
  std::chrono::system_clock::time_point now;
  std::vector<ObservedPolicy> policies;         // oldest first (oldest_first); not empty
  std::vector<Cached> nodes;                    // metadata.name and metadata.labels
  std::set<std::string> runtime_classes;        // names
  std::vector<Cached> configmaps;               // in the operator namespace
  std::vector<OwnedObject> owned;               // managed ServiceAccounts, RBAC and DaemonSets
  // Remembered of the active (oldest) ClusterPolicy; unset: read from its status.
  std::optional<RolloutRecord> record;
  std::optional<ConfigReport> reported;
  std::optional<EffectMemory> effect;  // unset: read from its status
  std::optional<ConflictMemory> conflicts;  // unset: read from its status
  // Since when reconciles of it fail (unset: the last one went well).
  std::optional<std::chrono::system_clock::time_point> failing_since;
  // Set when the planned snapshot could not be created: the consumers stay on the last good one.
  std::optional<std::string> snapshot_failure;
};

enum class EventKind { Normal, Warning };

struct PlannedEvent {
  nlohmann::json target;  // the involved object
  EventKind kind = EventKind::Normal;
  std::string reason;
  std::string message;
};

struct IgnoredPolicy {
  nlohmann::json object;
  nlohmann::json previous;  // the status it has
  nlohmann::json status;    // the status to write
  std::optional<PlannedEvent> event;
};

struct Apply {
  nlohmann::json object;  // with the applied digest stamped
  std::string kind;
  std::string key;        // namespace/name, or name
  bool exists = false;    // an update (else a create)
  std::string difference;  // of an update: the first field that differs
  std::string event_message;  // the Event on success: "Created ..." / "Updated ... (field)"
};

struct Delete {
  std::string kind, ns, name, uid;  // uid: the precondition
};

struct SnapshotCreate {
  nlohmann::json object;
  std::string name;
};

struct Plan {
  std::vector<IgnoredPolicy> ignored;  // every ClusterPolicy but the oldest
  std::optional<SnapshotCreate> snapshot;  // created before the applies
  std::vector<Apply> applies;              // in render order
  std::vector<Delete> deletes;             // owned by the active ClusterPolicy, no longer rendered
  std::vector<std::string> prune;          // snapshot names
  std::vector<PlannedEvent> events;        // after the applies and deletes
  // The spec could not be rendered: nothing is applied, and the status below is
  // written as it is (`render_error` set: the reconcile fails with it).
  bool halted = false;
  std::optional<std::string> render_error;
  StatusInputs status_inputs;
  std::optional<nlohmann::json> config_condition;  // ConfigValid, joined to the conditions
  nlohmann::json status;                           // to write when execution goes well
  // Counters: a rejected edit and a rollback, of ConfigMap `config_source`.
  std::string config_source;
  bool count_rejection = false;
  bool count_rollback = false;
  std::optional<std::chrono::milliseconds> check_again;
  // To remember of the active ClusterPolicy (unset: unchanged).
  std::optional<RolloutRecord> record;
  std::optional<ConfigReport> reported;
  std::optional<EffectMemory> effect;
  std::optional<ConflictMemory> conflicts;
  std::vector<std::string> held_kinds;  // of the objects held this reconcile, for the counter
  // Nodes per effect state, for the gauge (unset: no config is verified).
  std::optional<std::map<NodeEffect, std::size_t>> effect_counts;
};

// Sorts ClusterPolicies by creationTimestamp, then name: the first is the active one.
void oldest_first(std::vector<nlohmann::json>& policies);

Plan plan(const ReconcileInputs& in);

// The status to write after execution: the planned one, with the execution's
// errors as a ReconcileFailed failure (not when halted).
nlohmann::json status_after(const Plan& plan, const std::vector<std::string>& errors);

// The first few errors and how many more.
std::string summarize(const std::vector<std::string>& errors);

// The "namespace/name" (or "name") key of an object.
std::string key_of(const nlohmann::json& object);
// The uid of the ClusterPolicy that controls `object` ("" when none).
std::string owner_uid(const nlohmann::json& object);

}  // namespace cpo::clusterpolicy
