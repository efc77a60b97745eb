#include <catch2/catch.hpp>

#include "clusterpolicy/plan.hpp"
#include "clusterpolicy/snapshot.hpp"
#include "clusterpolicy/vocabulary.hpp"

using namespace cpo::clusterpolicy;
using json = nlohmann::json;

namespace {

const auto kNow = std::chrono::system_clock::time_point(std::chrono::seconds(1795000000));
const char* kNs = "gpu-operator";
const char* kUid = "uid-active";
const char* kSource = "mps-config-all";

std::string mps(int replicas) {
  return "version: v1\nsharing:\n  mps:\n    resources:\n    - name: nvidia.com/gpu\n      replicas: " +
         std::to_string(replicas) + "\n";
}

json policy(const std::string& name, const std::string& uid, const std::string& created, json spec = json::object()) {
  return {{"metadata",
           {{"name", name}, {"uid", uid}, {"creationTimestamp", created}, {"generation", 1}, {"resourceVersion", "7"}}},
          {"spec", std::move(spec)}};
}

json config_spec() { return {{"devicePlugin", {{"config", {{"name", kSource}, {"default", "mps-any"}}}}}}; }

Cached cached(json object) { return std::make_shared<const json>(std::move(object)); }

json configmap(const std::string& name, const std::string& doc) {
  return {{"metadata", {{"name", name}, {"namespace", kNs}}}, {"data", {{"mps-any", doc}}}};
}

ConfigContent content(int replicas) { return {{{"mps-any", mps(replicas)}}, "mps-any", "none"}; }

// The snapshot of `replicas` owned by the active ClusterPolicy, created on `day`.
json snapshot_of(int replicas, int day) {
  json s = render_snapshot(kSource, content(replicas), kNs, policy("cluster-policy", kUid, ""));
  s["metadata"]["creationTimestamp"] = "2026-01-0" + std::to_string(day) + "T00:00:00Z";
  return s;
}

std::string snapshot_name_of(int replicas) { return snapshot_name(kSource, config_hash(content(replicas))); }

json daemonset(const std::string& name, const std::string& owner, const std::string& config_hash = "") {
  json ds = {{"metadata", {{"name", name}, {"namespace", kNs}, {"uid", "ds-" + name}}}};
  if (!owner.empty()) {
    ds["metadata"]["ownerReferences"] = {{{"kind", "ClusterPolicy"}, {"uid", owner}, {"controller", true}}};
  }
  if (!config_hash.empty()) ds["spec"]["template"]["metadata"]["annotations"][kConfigHashAnnotation] = config_hash;
  return ds;
}

// One ClusterPolicy (the active one) with `spec`, and nothing else in the cluster.
ReconcileInputs cluster(json spec = json::object()) {
  ReconcileInputs in;
  in.ns = kNs;
  in.images = {kDefaultOperandImage, kDefaultOperandImage};
  in.now = kNow;
  in.policies.push_back({policy("cluster-policy", kUid, "2026-01-01T00:00:00Z", std::move(spec)), json::object()});
  return in;
}

const json* condition_of(const json& status, const std::string& type) {
  for (const auto& c : status["conditions"]) {
    if (c["type"] == type) return &c;
  }
  return nullptr;
}

std::vector<std::string> reasons(const Plan& p, const std::string& target) {
  std::vector<std::string> out;
  for (const auto& e : p.events) {
    if (e.target["metadata"].value("name", "") == target) out.push_back(e.reason);
  }
  return out;
}

}  // namespace

TEST_CASE("Plan: only the oldest ClusterPolicy is active, the others are told once", "[plan]") {
  struct Row {
    std::string younger_state;  // the younger one's status.state now
    bool event;
  };
  for (const auto& row : std::vector<Row>{{"", true}, {"ready", true}, {"ignored", false}}) {
    CAPTURE(row.younger_state);
    auto in = cluster();
    json younger = policy("younger", "uid-younger", "2026-02-01T00:00:00Z");
    json status = row.younger_state.empty() ? json::object() : json{{"state", row.younger_state}};
    in.policies.push_back({younger, status});
    const Plan p = plan(in);
    REQUIRE(p.ignored.size() == 1);
    CHECK(p.ignored[0].object["metadata"]["name"] == "younger");
    CHECK(p.ignored[0].status["state"] == "ignored");
    CHECK(p.ignored[0].previous == status);
    REQUIRE(static_cast<bool>(p.ignored[0].event) == row.event);
    if (p.ignored[0].event) {
      CHECK(p.ignored[0].event->reason == event_reason::kIgnored);
      CHECK(p.ignored[0].event->kind == EventKind::Warning);
      CHECK(p.ignored[0].event->target["metadata"]["name"] == "younger");
      CHECK(p.ignored[0].event->message == "ClusterPolicy cluster-policy is active (the oldest); this one is ignored");
    }
    // The active one is still reconciled.
    CHECK_FALSE(p.applies.empty());
  }
}

TEST_CASE("Plan: oldest_first orders by creation time, then name", "[plan]") {
  std::vector<json> policies = {policy("b", "2", "2026-03-01T00:00:00Z"), policy("z", "3", "2026-01-01T00:00:00Z"),
                                policy("a", "1", "2026-03-01T00:00:00Z")};
  oldest_first(policies);
  CHECK(policies[0]["metadata"]["name"] == "z");
  CHECK(policies[1]["metadata"]["name"] == "a");
  CHECK(policies[2]["metadata"]["name"] == "b");
}

TEST_CASE("Plan: the ConfigValid condition", "[plan]") {
  struct Row {
    std::string what;
    bool config;                 // spec names a config
    std::optional<int> replicas; // the user's ConfigMap; unset: missing
    bool present;
    std::string status;
    std::string reason;
  };
  const std::vector<Row> rows = {
      {"no config", false, std::nullopt, false, "", ""},
      {"a valid config", true, 4, true, "True", reason::kValid},
      {"an invalid config", true, 1, true, "False", reason::kConfigInvalid},
      {"a missing ConfigMap", true, std::nullopt, true, "False", reason::kConfigMissing},
  };
  for (const auto& row : rows) {
    CAPTURE(row.what);
    auto in = cluster(row.config ? config_spec() : json::object());
    if (row.replicas) in.configmaps.push_back(cached(configmap(kSource, mps(*row.replicas))));
    const Plan p = plan(in);
    const json* condition = condition_of(p.status, condition::kConfigValid);
    REQUIRE(static_cast<bool>(condition) == row.present);
    if (!condition) continue;
    CHECK((*condition)["status"] == row.status);
    CHECK((*condition)["reason"] == row.reason);
  }
}

TEST_CASE("Plan: a valid new config is snapshotted first, unless that failed", "[plan]") {
  auto in = cluster(config_spec());
  in.configmaps.push_back(cached(configmap(kSource, mps(4))));
  const Plan p = plan(in);
  REQUIRE(p.snapshot);
  CHECK(p.snapshot->name == snapshot_name_of(4));
  in.snapshot_failure = "creating snapshot: denied";
  const Plan again = plan(in);
  CHECK_FALSE(again.snapshot);
  // No last good snapshot: the consumers get no config wiring at all.
  for (const auto& a : again.applies) CHECK(a.object.dump().find(snapshot_name_of(4)) == std::string::npos);
}

TEST_CASE("Plan: what the active ClusterPolicy owns and no longer renders is deleted", "[plan]") {
  struct Row {
    std::string kind, name, owner;
    bool deleted;
  };
  const std::vector<Row> rows = {
      {"DaemonSet", kGfdName, kUid, true},                        // gfd disabled
      {"DaemonSet", kDevicePluginName, kUid, false},              // still rendered
      {"ServiceAccount", "someone-elses", "uid-other", false},    // another ClusterPolicy's
      {"ServiceAccount", "unowned", "", false},                   // nobody's
      {"ServiceAccount", kGfdServiceAccount, kUid, true},
  };
  auto in = cluster({{"gfd", {{"enabled", false}}}});
  for (const auto& row : rows) in.owned.push_back({row.kind, cached(daemonset(row.name, row.owner))});
  const Plan p = plan(in);
  for (const auto& row : rows) {
    CAPTURE(row.kind, row.name);
    const bool deleted = std::any_of(p.deletes.begin(), p.deletes.end(),
                                     [&](const Delete& d) { return d.kind == row.kind && d.name == row.name; });
    CHECK(deleted == row.deleted);
  }
  for (const auto& d : p.deletes) {
    CHECK(d.ns == kNs);
    CHECK(d.uid == "ds-" + d.name);  // the precondition
    CHECK(reasons(p, "cluster-policy").empty());  // Deleted Events come with the deletes
  }
}

TEST_CASE("Plan: snapshots kept are the newest three and any referenced", "[plan]") {
  struct Row {
    std::string what;
    int source;   // the replicas of the user's ConfigMap
    int mounted;  // the replicas the device plugin's template carries
    std::vector<int> pruned;
  };
  // Snapshots of 2, 3, 5, 6, 7 replicas, created on days 1 to 5.
  const std::vector<Row> rows = {
      {"the source is the newest; the oldest is mounted", 7, 2, {3}},
      {"the source is the newest; the newest is mounted", 7, 7, {2, 3}},
      {"a new source counts as the newest", 8, 2, {3, 5}},
  };
  for (const auto& row : rows) {
    CAPTURE(row.what);
    auto in = cluster(config_spec());
    in.configmaps.push_back(cached(configmap(kSource, mps(row.source))));
    int day = 1;
    for (int replicas : {2, 3, 5, 6, 7}) in.configmaps.push_back(cached(snapshot_of(replicas, day++)));
    in.owned.push_back({"DaemonSet", cached(daemonset(kDevicePluginName, kUid, config_hash(content(row.mounted))))});
    const Plan p = plan(in);
    std::vector<std::string> expected;
    for (int replicas : row.pruned) expected.push_back(snapshot_name_of(replicas));
    auto pruned = p.prune;
    std::sort(pruned.begin(), pruned.end());
    std::sort(expected.begin(), expected.end());
    CHECK(pruned == expected);
  }
}

TEST_CASE("Plan: config Events fire on a change of state, not again", "[plan]") {
  auto in = cluster(config_spec());
  in.configmaps.push_back(cached(configmap(kSource, mps(1))));
  const Plan first = plan(in);
  CHECK(reasons(first, "cluster-policy") == std::vector<std::string>{event_reason::kConfigInvalid});
  CHECK(reasons(first, kSource) == std::vector<std::string>{event_reason::kConfigInvalid});
  CHECK(first.count_rejection);
  CHECK(first.config_source == kSource);
  REQUIRE(first.reported);
  CHECK(first.reported->state == "invalid");

  // Remembered: the same invalid edit says nothing new.
  in.reported = first.reported;
  const Plan second = plan(in);
  CHECK(second.events.empty());
  CHECK_FALSE(second.count_rejection);
  // Not remembered (a restart), but the status says it: nothing new either.
  in.reported.reset();
  in.policies.front().status = first.status;
  CHECK(plan(in).events.empty());

  // Another invalid edit is a change.
  in.reported = first.reported;
  in.configmaps = {cached(configmap(kSource, mps(0)))};
  const Plan third = plan(in);
  CHECK(reasons(third, "cluster-policy") == std::vector<std::string>{event_reason::kConfigInvalid});
  CHECK(third.count_rejection);
  // A valid one rolls out, and says so once.
  in.configmaps = {cached(configmap(kSource, mps(4)))};
  const Plan valid = plan(in);
  CHECK(reasons(valid, "cluster-policy") == std::vector<std::string>{event_reason::kConfigRollingOut});
  in.reported = valid.reported;
  CHECK(reasons(plan(in), "cluster-policy").empty());
}

TEST_CASE("Plan: an invalid spec halts the plan and is told once", "[plan]") {
  auto in = cluster({{"devicePlugin", {{"enabled", "yes"}}}});
  in.owned.push_back({"DaemonSet", cached(daemonset(kGfdName, kUid))});
  const Plan p = plan(in);
  CHECK(p.halted);
  CHECK(p.applies.empty());
  CHECK(p.deletes.empty());
  CHECK(reasons(p, "cluster-policy") == std::vector<std::string>{event_reason::kInvalidSpec});
  CHECK(condition_of(p.status, condition::kReady)->at("reason") == reason::kInvalidSpec);
  // Execution errors do not hide the spec's problem.
  CHECK(status_after(p, {"labels of node n1: denied"}) == p.status);
  in.policies.front().status = p.status;
  CHECK(plan(in).events.empty());
}

TEST_CASE("Plan: execution errors make the status ReconcileFailed", "[plan]") {
  const Plan p = plan(cluster());
  CHECK(condition_of(p.status, condition::kReady)->at("reason") != reason::kReconcileFailed);
  const json failed = status_after(p, {"DaemonSet a: denied", "DaemonSet b: denied"});
  const json* ready = condition_of(failed, condition::kReady);
  REQUIRE(ready);
  CHECK((*ready)["status"] == "False");
  CHECK((*ready)["reason"] == reason::kReconcileFailed);
  CHECK((*ready)["message"] == "DaemonSet a: denied; DaemonSet b: denied");
}

TEST_CASE("Plan: the status knows whether any node has a GPU", "[plan]") {
  auto in = cluster();
  in.nodes = {cached({{"metadata", {{"name", "cpu"}, {"labels", json::object()}}}})};
  CHECK_FALSE(plan(in).status_inputs.any_gpu_node);
  in.nodes.push_back(cached({{"metadata", {{"name", "gpu"}, {"labels", {{"nvidia.com/gpu.present", "true"}}}}}}));
  CHECK(plan(in).status_inputs.any_gpu_node);
}

namespace {

json rolled_out(const std::string& name, const std::string& hash) {
  json ds = daemonset(name, kUid, hash);
  ds["metadata"]["generation"] = 1;
  ds["status"] = {{"observedGeneration", 1}, {"desiredNumberScheduled", 2}, {"updatedNumberScheduled", 2},
                  {"numberAvailable", 2},    {"numberReady", 2},            {"numberUnavailable", 0}};
  return ds;
}

json gpu_node(const std::string& name, int replicas) {
  return {{"metadata",
           {{"name", name},
            {"labels",
             {{kGpuPresentLabel, "true"}, {kDeployDevicePluginLabel, "true"}, {kNfdNvidiaPciLabel, "true"},
              {kGpuCountLabel, "1"}, {kGpuReplicasLabel, std::to_string(replicas)},
              {kGpuSharingStrategyLabel, "mps"}, {kGpuProductLabel, "A100-SHARED"}}}}},
          {"status", {{"capacity", {{"nvidia.com/gpu", std::to_string(replicas)}}}}}};
}

// What the controller remembers of a plan for the next reconcile.
void remember(ReconcileInputs& in, const Plan& p) {
  if (p.record) in.record = p.record;
  if (p.reported) in.reported = p.reported;
  if (p.effect) in.effect = p.effect;
}

}  // namespace

TEST_CASE("Plan: the config's effect on the nodes, its conditions and Events", "[plan]") {
  auto in = cluster(config_spec());
  const std::string hash = config_hash(content(4));
  in.configmaps = {cached(configmap(kSource, mps(4))), cached(snapshot_of(4, 1))};
  for (const char* name : {kDevicePluginName, kMpsName, kGfdName}) {
    in.owned.push_back({"DaemonSet", cached(rolled_out(name, hash))});
  }
  in.nodes = {cached(gpu_node("gpu-1", 4)), cached(gpu_node("gpu-7", 2))};

  remember(in, plan(in));  // the rollout completes: said once
  const Plan lagging = plan(in);
  CHECK(lagging.events.empty());
  CHECK(lagging.status["effect"]["summary"] == "1/2");
  CHECK(lagging.status["effect"]["pendingNodes"][0]["name"] == "gpu-7");
  CHECK((*condition_of(lagging.status, "Ready"))["reason"] == "ConfigPending");
  CHECK((*condition_of(lagging.status, "Progressing"))["reason"] == "ConvergingOnNodes");
  CHECK((*condition_of(lagging.status, "Error"))["status"] == "False");
  REQUIRE(lagging.check_again);
  CHECK(*lagging.check_again == std::chrono::seconds(121));
  REQUIRE(lagging.effect_counts);
  CHECK(lagging.effect_counts->at(NodeEffect::Pending) == 1);

  // Past the grace period: Mismatched, an Error, and one Warning.
  remember(in, lagging);
  in.now += std::chrono::minutes(3);
  const Plan mismatched = plan(in);
  CHECK((*condition_of(mismatched.status, "Error"))["reason"] == "ConfigMismatched");
  CHECK(reasons(mismatched, "cluster-policy") == std::vector<std::string>{event_reason::kConfigMismatched});
  remember(in, mismatched);
  CHECK(reasons(plan(in), "cluster-policy").empty());

  // The node catches up: in effect everywhere, said once.
  in.nodes = {cached(gpu_node("gpu-1", 4)), cached(gpu_node("gpu-7", 4))};
  const Plan in_effect = plan(in);
  CHECK(in_effect.status["effect"]["inEffectHash"] == hash);
  CHECK((*condition_of(in_effect.status, "Ready"))["status"] == "True");
  CHECK((*condition_of(in_effect.status, "Error"))["status"] == "False");
  CHECK(reasons(in_effect, "cluster-policy") == std::vector<std::string>{event_reason::kConfigInEffect});
  remember(in, in_effect);
  CHECK(reasons(plan(in), "cluster-policy").empty());
  // MIG strategy single (NVIDIA's chart default) is verified the same (MPS refuses mixed).
  auto single = in;
  single.policies.front().object["spec"]["mig"]["strategy"] = "single";
  CHECK_FALSE(plan(single).status["effect"].contains("notVerified"));
  CHECK(plan(single).status["effect"].value("gpuNodes", 0) == 2);
  // Not remembered (a restart): the status says it.
  in.effect.reset();
  in.reported.reset();
  in.policies.front().status = in_effect.status;
  CHECK(reasons(plan(in), "cluster-policy").empty());
}

namespace {

// The GFD DaemonSet as planned, as another manager left it: its image changed, and
// managedFields saying that manager owns the image (at resourceVersion `version`).
json rewritten_gfd(const ReconcileInputs& in, const std::string& version) {
  const Plan first = plan(in);
  for (const auto& a : first.applies) {
    if (a.kind != "DaemonSet" || a.key != std::string(kNs) + "/" + kGfdName) continue;
    json live = a.object;
    live["metadata"]["uid"] = "ds-gfd";
    live["metadata"]["resourceVersion"] = version;
    live["spec"]["template"]["spec"]["containers"][0]["image"] = "theirs:1";
    const std::string container = live["spec"]["template"]["spec"]["containers"][0]["name"];
    live["metadata"]["managedFields"] = json::array(
        {{{"manager", "clusterpolicy-operator"}, {"operation", "Apply"}, {"time", "2026-11-18T00:00:00Z"},
          {"fieldsType", "FieldsV1"}, {"fieldsV1", {{"f:metadata", {{"f:name", json::object()}}}}}},
         {{"manager", "gpu-operator"}, {"operation", "Update"}, {"time", "2026-11-18T00:00:00Z"},
          {"fieldsType", "FieldsV1"},
          {"fieldsV1", json::parse(R"({"f:spec": {"f:template": {"f:spec": {"f:containers": {"k:{\"name\":\")" +
                                   container + R"(\"}": {"f:image": {}}}}}}})")}}});
    return live;
  }
  FAIL("no GFD DaemonSet planned");
  return {};
}

bool applies_gfd(const Plan& p) {
  return std::any_of(p.applies.begin(), p.applies.end(), [](const Apply& a) { return a.key == std::string(kNs) + "/" + kGfdName; });
}

}  // namespace

TEST_CASE("Plan: an operand another manager keeps rewriting is held, told, and resumed", "[plan][conflict]") {
  auto in = cluster();
  in.conflict_quiet = std::chrono::minutes(5);
  auto rewrite = [&](const std::string& version) {
    std::erase_if(in.owned, [](const OwnedObject& o) { return o.kind == "DaemonSet"; });
    in.owned.push_back({"DaemonSet", cached(rewritten_gfd(in, version))});
  };
  // Its first two rewrites are repaired.
  for (const char* version : {"11", "12"}) {
    rewrite(version);
    const Plan p = plan(in);
    CHECK(applies_gfd(p));
    CHECK(reasons(p, "cluster-policy").empty());  // the Updated Event is the execution's
    in.conflicts = p.conflicts;
  }
  // The third is not: held, named, counted, told once.
  rewrite("13");
  const Plan held = plan(in);
  CHECK_FALSE(applies_gfd(held));
  CHECK(reasons(held, "cluster-policy") == std::vector<std::string>{event_reason::kOperandConflict});
  CHECK(held.held_kinds == std::vector<std::string>{"DaemonSet"});
  const json& conflict = *condition_of(held.status, "Conflict");
  CHECK(conflict["status"] == "True");
  CHECK(conflict["message"].get<std::string>().find("manager \"gpu-operator\" keeps writing spec.template.spec.containers") !=
        std::string::npos);
  CHECK((*condition_of(held.status, "Error"))["reason"] == "OperandConflict");
  CHECK(held.status["operandConflicts"]["held"][0]["manager"] == "gpu-operator");
  REQUIRE(held.check_again);
  in.conflicts = held.conflicts;
  const Plan still = plan(in);
  CHECK_FALSE(applies_gfd(still));
  CHECK(still.held_kinds.empty());
  CHECK(reasons(still, "cluster-policy").empty());

  // A restart reads it from the status: still held.
  in.conflicts.reset();
  in.policies.front().status = held.status;
  CHECK_FALSE(applies_gfd(plan(in)));

  // The resume annotation applies it at once, and is honoured once.
  in.policies.front().object["metadata"]["annotations"][kResumeApplyAnnotation] = "1";
  const Plan resumed = plan(in);
  CHECK(applies_gfd(resumed));
  CHECK((*condition_of(resumed.status, "Conflict"))["status"] == "False");
  CHECK(resumed.status["operandConflicts"]["resumeToken"] == "1");
}
