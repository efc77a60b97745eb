// Every rule of the chart's RBAC (charts/clusterpolicy-operator/files/*-rules.yaml)
// is needed: run the operator as a fresh identity holding every rule but one, and a
// named behaviour of the operator fails, seen twice: the API server's audit log holds
// a refused request of that identity for the rule's resource, and the effect shows
// where a user would look (readiness, operands, status, Events, /metrics, the Lease).
// A control run with every rule shows every behaviour and not one refusal.
#include <catch2/catch.hpp>

#include <algorithm>

#include "clusterpolicy/render.hpp"
#include "clusterpolicy/vocabulary.hpp"
#include "support/deploy_support.hpp"
#include "support/rbac_operator_run.hpp"

using cpo::testing::eventually;
using cpo::testing::rbac::AuditRecord;
using cpo::testing::rbac::OperatorRun;
using json = nlohmann::json;
namespace cp = cpo::clusterpolicy;
namespace res = cpo::kube::resources;

namespace {

const std::string kClusterRules = "clusterrole-rules.yaml";
const std::string kRoleRules = "role-rules.yaml";
const std::string& kNs = cpo::testing::rbac::kNs;

// A request the API server refuses (403) when the rule is missing.
struct Refusal {
  std::vector<std::string> verbs;
  std::string resource, subresource;
  std::string ns, name;  // "" matches any
  std::string message;   // a part of the refusal's message; "" matches any
};

bool same_request(const AuditRecord& r, const Refusal& f) {
  return std::find(f.verbs.begin(), f.verbs.end(), r.verb) != f.verbs.end() && r.resource == f.resource &&
         r.subresource == f.subresource && (f.ns.empty() || r.ns == f.ns) && (f.name.empty() || r.name == f.name);
}

long refusals(OperatorRun& run, const Refusal& f) {
  const auto& records = run.audit->records();
  return std::count_if(records.begin(), records.end(), [&](const AuditRecord& r) {
    return r.code == 403 && same_request(r, f) && r.message.find(f.message) != std::string::npos;
  });
}

bool has_daemonset(OperatorRun& run) { return run.find(res::daemonsets, kNs, cp::kDevicePluginName).has_value(); }

std::string policy_uid(OperatorRun& run) { return run.policy()["metadata"].value("uid", ""); }

bool has_event(OperatorRun& run, const std::string& ns, const std::string& uid, const std::string& reason,
               const std::string& text = {}) {
  const auto events = run.events_about(ns, uid);
  return std::any_of(events.begin(), events.end(), [&](const json& e) {
    return e.value("reason", "") == reason && e.value("message", "").find(text) != std::string::npos;
  });
}

// ---- the named behaviours ----------------------------------------------------------

// Which TEST_CASE proves the rules a behaviour needs (each stays well inside its timeout).
enum class Group { Readiness, Writes, Modes };

struct Behaviour {
  const char* name;
  Group group;
  bool (*works)(OperatorRun&);
  // Once the refusal is in the audit log: the sign, where a user looks, that the
  // permission is missing. nullptr: no single rule's absence breaks it.
  bool (*broken)(OperatorRun&, const Refusal&);
  void (*trigger)(OperatorRun&) = nullptr;  // what makes the operator show it
};

const Behaviour kReady{
    "the caches sync and the operator becomes ready (/readyz), then reconciles", Group::Readiness,
    [](OperatorRun& run) { std::string body; return run.readyz(body) == 200; },
    [](OperatorRun& run, const Refusal& f) {
      // Refused again on retry, still named by /readyz, and nothing reconciled.
      std::string body;
      return run.readyz(body) == 500 && body.find("the cache of " + f.resource + " has not synced yet") != std::string::npos &&
             !has_daemonset(run) && refusals(run, f) >= 2;
    }};

const Behaviour kLease{
    "with --leader-elect: the Lease is acquired and the operator leads", Group::Modes,
    [](OperatorRun& run) {
      auto lease = run.find(res::leases, kNs, run.lease);
      return lease && !(*lease)["spec"].value("holderIdentity", "").empty();
    },
    [](OperatorRun& run, const Refusal&) {
      std::string body;
      return run.readyz(body) == 500 && body.find("no leader observed yet for lease") != std::string::npos &&
             !run.find(res::leases, kNs, run.lease) && !has_daemonset(run);
    }};

const Behaviour kOperands{
    "the operands are created, their deletion blocked by the ClusterPolicy's (blockOwnerDeletion)", Group::Writes,
    [](OperatorRun& run) {
      auto ds = run.find(res::daemonsets, kNs, cp::kDevicePluginName);
      return ds && (*ds)["metadata"]["ownerReferences"][0].value("blockOwnerDeletion", false);
    },
    [](OperatorRun& run, const Refusal&) {
      const json ready = run.condition(cp::condition::kReady);
      return !has_daemonset(run) && ready.value("reason", "") == cp::reason::kReconcileFailed &&
             ready.value("message", "").find("blockOwnerDeletion") != std::string::npos;
    }};

const Behaviour kStatus{
    "the ClusterPolicy's status (conditions) is written", Group::Writes,
    [](OperatorRun& run) { return !run.policy().value("status", json::object()).value("conditions", json::array()).empty(); },
    [](OperatorRun& run, const Refusal&) { return has_daemonset(run) && !run.policy().contains("status"); }};

const Behaviour kConfigManagerRbac{
    "config-manager's ClusterRole and ClusterRoleBinding are applied", Group::Writes,
    [](OperatorRun& run) {
      return run.find(res::clusterroles, "", cp::kConfigManagerRbacName) &&
             run.find(res::clusterrolebindings, "", cp::kConfigManagerRbacName);
    },
    [](OperatorRun& run, const Refusal&) {
      return !run.find(res::clusterroles, "", cp::kConfigManagerRbacName) &&
             has_event(run, "default", policy_uid(run), cp::event_reason::kApplyFailed, "ClusterRole " +
                       std::string(cp::kConfigManagerRbacName));
    }};

const Behaviour kPolicyEvents{
    "Events about the ClusterPolicy are recorded (in namespace default)", Group::Writes,
    [](OperatorRun& run) { return has_event(run, "default", policy_uid(run), cp::event_reason::kCreated); },
    [](OperatorRun& run, const Refusal&) {
      return has_daemonset(run) && run.events_about("default", policy_uid(run)).empty();
    }};

const Behaviour kMetrics{
    "with --metrics-secure: /metrics answers a token allowed to get it", Group::Modes,
    [](OperatorRun& run) { return run.scrape() == "200"; },
    [](OperatorRun& run, const Refusal&) { return run.scrape() == "500"; }};

const Behaviour kConfigMapEvents{
    "Events about the config ConfigMap are recorded (in its namespace)", Group::Writes,
    [](OperatorRun& run) {
      auto cm = run.find(res::configmaps, kNs, cpo::testing::rbac::kConfigMap);
      return cm && has_event(run, kNs, (*cm)["metadata"].value("uid", ""), cp::event_reason::kConfigInvalid);
    },
    nullptr, [](OperatorRun& run) { run.set_config(cpo::testing::rbac::mps_doc(1)); }};

// In the order the control run checks them (the last one edits the config).
const std::vector<const Behaviour*> kBehaviours = {&kReady,  &kLease,   &kOperands,  &kStatus, &kConfigManagerRbac,
                                                   &kPolicyEvents, &kMetrics, &kConfigMapEvents};

// ---- the table: each rule, the behaviour it is needed for, the refused request ------

struct Row {
  std::string file;
  std::size_t index;
  std::vector<std::string> resources;  // the rule's, to tell it is the one meant
  const Behaviour* behaviour;          // what fails without it
  Refusal refused;
  std::string label() const {
    std::string out = file + " #" + std::to_string(index) + " (";
    for (const auto& r : resources) out += (out.back() == '(' ? "" : ", ") + r;
    return out + ")";
  }
};

// A read rule (get/list/watch of a kind the operator caches): the informer's list is
// refused on every retry, /readyz names that cache and nothing is reconciled. A write
// rule: the write is refused and its result never shows.
const std::vector<Row>& table() {
  static const std::vector<Row> rows = {
      {kClusterRules, 0, {"clusterpolicies"}, &kReady, {{"list"}, "clusterpolicies"}},
      {kClusterRules, 1, {"clusterpolicies/status"}, &kStatus, {{"patch", "update"}, "clusterpolicies", "status"}},
      // Refused by OwnerReferencesPermissionEnforcement (admission), not by RBAC: the
      // request is the operand's apply.
      {kClusterRules, 2, {"clusterpolicies/finalizers"}, &kOperands,
       {{"patch", "create"}, "daemonsets", "", kNs, "", "blockOwnerDeletion"}},
      {kClusterRules, 3, {"nodes"}, &kReady, {{"list"}, "nodes"}},
      {kClusterRules, 4, {"runtimeclasses"}, &kReady, {{"list"}, "runtimeclasses"}},
      {kClusterRules, 5, {"clusterroles", "clusterrolebindings"}, &kReady, {{"list"}, "clusterroles"}},
      {kClusterRules, 6, {"clusterroles", "clusterrolebindings"}, &kConfigManagerRbac,
       {{"patch"}, "clusterroles", "", "", cp::kConfigManagerRbacName}},
      {kClusterRules, 7, {"events"}, &kPolicyEvents, {{"create", "patch"}, "events", "", "default"}},
      {kClusterRules, 8, {"tokenreviews"}, &kMetrics, {{"create"}, "tokenreviews"}},
      {kClusterRules, 9, {"subjectaccessreviews"}, &kMetrics, {{"create"}, "subjectaccessreviews"}},
      {kRoleRules, 0, {"configmaps"}, &kReady, {{"list"}, "configmaps", "", kNs}},
      {kRoleRules, 1, {"serviceaccounts"}, &kReady, {{"list"}, "serviceaccounts", "", kNs}},
      // Events in the operator's namespace (about the user's ConfigMap) come under the
      // ClusterRole's events rule (#7), bound cluster-wide: the Role has none.
      {kRoleRules, 2, {"daemonsets"}, &kReady, {{"list"}, "daemonsets", "", kNs}},
      {kRoleRules, 3, {"leases"}, &kLease, {{"get", "create", "update"}, "leases", "", kNs}},
  };
  return rows;
}

json rules_of(const std::string& file) { return cpo::testing::deploy::chart_rules(file); }

json without(json rules, const Row& row, const std::string& file) {
  if (row.file == file) rules.erase(rules.begin() + static_cast<std::ptrdiff_t>(row.index));
  return rules;
}

// The control's checks: every behaviour shows, and the identity is never refused.
void expect_every_behaviour(OperatorRun& run) {
  for (const auto* b : kBehaviours) {
    if (b->trigger) b->trigger(run);
    const bool shown = eventually([&] { return b->works(run); }, std::chrono::seconds(60));
    INFO(b->name << "\n" << run.evidence());
    CHECK(shown);
  }
  std::string refused;
  for (const auto& r : run.audit->records()) {
    if (r.code == 403) refused += r.describe() + "\n";
  }
  INFO("refused requests of " << run.identity->username() << ":\n" << refused);
  CHECK(refused.empty());
  CHECK(!run.audit->records().empty());  // the log does hold this identity's requests
}

// Without the row's rule: the refusal is in the audit log and the behaviour fails.
void prove_needed(const Row& row) {
  OperatorRun run(without(rules_of(kClusterRules), row, kClusterRules), without(rules_of(kRoleRules), row, kRoleRules));
  if (row.behaviour->trigger) row.behaviour->trigger(run);
  const bool seen = eventually([&] { return row.behaviour->broken(run, row.refused) && refusals(run, row.refused) > 0; },
                               std::chrono::seconds(60));
  INFO(row.behaviour->name << "\n" << run.evidence());
  CHECK(seen);
}

void prove_group(Group group) {
  for (const auto& row : table()) {
    if (row.behaviour->group != group) continue;
    DYNAMIC_SECTION("without " << row.label() << ": " << row.behaviour->name) { prove_needed(row); }
  }
}

}  // namespace

TEST_CASE("RBAC needed: every rule of the chart's rule files has a row naming its behaviour",
          "[deploy][rbac][integration]") {
  for (const auto& file : {kClusterRules, kRoleRules}) {
    const json rules = rules_of(file);
    for (std::size_t i = 0; i < rules.size(); ++i) {
      const auto rows = std::count_if(table().begin(), table().end(), [&](const Row& r) {
        return r.file == file && r.index == i && r.resources == rules[i]["resources"].get<std::vector<std::string>>();
      });
      INFO("rule " << file << " #" << i << " " << rules[i].dump() << " has no named behaviour (or more than one row)");
      CHECK(rows == 1);
    }
  }
  for (const auto& row : table()) {
    INFO(row.label());
    CHECK(row.index < rules_of(row.file).size());
    REQUIRE(row.behaviour);
    CHECK(row.behaviour->broken != nullptr);
  }
}

TEST_CASE("RBAC needed: with every rule each behaviour shows and no request is refused", "[rbac][integration]") {
  OperatorRun run(rules_of(kClusterRules), rules_of(kRoleRules));
  expect_every_behaviour(run);
  // The requests the other rows see refused are made, and allowed, here.
  for (const auto& row : table()) {
    const auto& records = run.audit->records();
    INFO(row.label() << "\n" << run.evidence());
    CHECK(std::any_of(records.begin(), records.end(),
                      [&](const AuditRecord& r) { return same_request(r, row.refused) && r.code < 400; }));
  }
}

TEST_CASE("RBAC needed: without a read rule the caches never sync and the operator is never ready",
          "[rbac][integration]") {
  prove_group(Group::Readiness);
}

TEST_CASE("RBAC needed: without a write rule the operands or status or config-manager RBAC or Events fail",
          "[rbac][integration]") {
  prove_group(Group::Writes);
}

TEST_CASE("RBAC needed: without the review or Lease rules secure /metrics or leader election fails",
          "[rbac][integration]") {
  prove_group(Group::Modes);
}
