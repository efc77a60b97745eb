// Who wrote a field that differs (managedFields), and when the operator stops
// re-applying an operand another manager keeps writing, and resumes.
#include <catch2/catch.hpp>

#include "clusterpolicy/conflict.hpp"
#include "clusterpolicy/conflict_plan.hpp"

using namespace cpo::clusterpolicy;
using json = nlohmann::json;
using std::chrono::minutes;
using std::chrono::seconds;

namespace {

const ConflictTime kT0 = std::chrono::sys_days{std::chrono::year{2026} / 12 / 3} + std::chrono::hours(8);

json fields_of_image(const std::string& container) {
  return json::parse(R"({"f:spec": {"f:template": {"f:spec": {"f:containers": {"k:{\"name\":\")" + container +
                     R"(\"}": {"f:image": {}}}}}}})");
}

json entry(const std::string& manager, const std::string& operation, const std::string& time, json fields,
           const std::string& subresource = "") {
  json e = {{"manager", manager}, {"operation", operation}, {"time", time}, {"fieldsType", "FieldsV1"},
            {"fieldsV1", std::move(fields)}, {"apiVersion", "apps/v1"}};
  if (!subresource.empty()) e["subresource"] = subresource;
  return e;
}

json daemonset(const std::string& image, json managed) {
  json ds = json::parse(R"({"metadata": {"name": "nvidia-device-plugin-daemonset"},
    "spec": {"template": {"spec": {"containers": [{"name": "sidecar", "image": "s:1"}, {"name": "plugin"}]}}}})");
  ds["metadata"]["managedFields"] = std::move(managed);
  ds["spec"]["template"]["spec"]["containers"][1]["image"] = image;
  return ds;
}

json desired(const std::string& image) {
  json d = json::parse(R"({"spec": {"template": {"spec": {"containers": [{"name": "plugin"}]}}}})");
  d["spec"]["template"]["spec"]["containers"][0]["image"] = image;
  return d;
}

}  // namespace

TEST_CASE("Conflicts: the manager that owns the differing field is named", "[conflict]") {
  struct Case {
    const char* name;
    json managed;
    std::vector<std::string> managers;
  };
  const json ours = json{{"f:metadata", {{"f:name", json::object()}}}};
  const Case cases[] = {
      {"another manager took the field (kubectl edit)",
       json::array({entry("clusterpolicy-operator", "Apply", "2026-12-03T07:00:00Z", ours),
                    entry("kubectl-edit", "Update", "2026-12-03T07:59:00Z", fields_of_image("plugin"))}),
       {"kubectl-edit"}},
      {"our own field: our desired state moved on",
       json::array({entry("clusterpolicy-operator", "Apply", "2026-12-03T07:00:00Z", fields_of_image("plugin"))}),
       {}},
      {"a status writer is never the one",
       json::array({entry("clusterpolicy-operator", "Apply", "2026-12-03T07:00:00Z", ours),
                    entry("kube-controller-manager", "Update", "2026-12-03T07:59:00Z", fields_of_image("plugin"),
                          "status")}),
       {}},
      {"another container's image is not this field",
       json::array({entry("clusterpolicy-operator", "Apply", "2026-12-03T07:00:00Z", ours),
                    entry("gpu-operator", "Update", "2026-12-03T07:59:00Z", fields_of_image("sidecar"))}),
       {}},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    const Attribution who = attribute(daemonset("theirs:2", c.managed), desired("ours:1"), "clusterpolicy-operator");
    CHECK(who.field == "spec.template.spec.containers[name=plugin].image");
    CHECK(who.managers == c.managers);
  }
  const json managed = json::array({entry("kubectl-edit", "Update", "2026-12-03T07:59:00Z", fields_of_image("plugin"))});
  const Attribution who = attribute(daemonset("theirs:2", managed), desired("ours:1"), "clusterpolicy-operator");
  REQUIRE(who.last_write);
  CHECK(*who.last_write == kT0 - minutes(1));
  CHECK(attribute(daemonset("ours:1", managed), desired("ours:1"), "clusterpolicy-operator").field.empty());
}

TEST_CASE("Conflicts: a removed field is the doing of whoever wrote after our last apply", "[conflict]") {
  json live = daemonset("ours:1", json::array({entry("clusterpolicy-operator", "Apply", "2026-12-03T07:00:00Z", json::object()),
                                               entry("early-bird", "Update", "2026-12-03T06:00:00Z", json::object()),
                                               entry("argocd-controller", "Update", "2026-12-03T07:30:00Z", json::object())}));
  json want = desired("ours:1");
  want["spec"]["template"]["spec"]["hostPID"] = true;  // not in live: removed
  const Attribution who = attribute(live, want, "clusterpolicy-operator");
  CHECK(who.field == "spec.template.spec.hostPID");
  CHECK(who.managers == std::vector<std::string>{"argocd-controller"});
}

TEST_CASE("Conflicts: repaired twice, held at the third foreign write, resumed after quiet, held again at once",
          "[conflict]") {
  ObjectHistory history;
  Attribution who{"spec.x", {"gpu-operator"}, kT0};
  const seconds quiet = minutes(5);
  // A person's one-off edit, and the next one: repaired.
  CHECK(judge(history, who, "10", kT0, quiet).apply);
  CHECK(judge(history, who, "10", kT0 + seconds(1), quiet).apply);  // the cache had not caught up: the same write
  CHECK(judge(history, who, "12", kT0 + seconds(2), quiet).apply);
  CHECK(history.repairs.size() == 2);
  // The third write within the window: held, with the manager named.
  Judgement third = judge(history, who, "14", kT0 + seconds(3), quiet);
  CHECK_FALSE(third.apply);
  CHECK(third.held_now);
  REQUIRE(history.held);
  CHECK(history.held->manager == "gpu-operator");
  CHECK(history.held->strikes == 1);
  // It keeps writing: still held, and the quiet clock restarts at its last write.
  who.last_write = kT0 + minutes(3);
  Judgement still = judge(history, who, "16", kT0 + minutes(3), quiet);
  CHECK_FALSE(still.apply);
  CHECK_FALSE(still.held_now);
  CHECK_FALSE(judge(history, who, "16", kT0 + minutes(7), quiet).apply);
  // Quiet for 5 minutes: applied again, once.
  Judgement resumed = judge(history, who, "16", kT0 + minutes(8) + seconds(1), quiet);
  CHECK(resumed.apply);
  CHECK(resumed.resumed);
  CHECK_FALSE(history.held);
  // Its next write holds it again at once, and the quiet period doubles: no taking turns.
  who.last_write = kT0 + minutes(9);
  Judgement again = judge(history, who, "18", kT0 + minutes(9), quiet);
  CHECK(again.held_now);
  REQUIRE(history.held);
  CHECK(history.held->strikes == 2);
  CHECK(resumes_at(*history.held, quiet) == kT0 + minutes(19));
}

TEST_CASE("Conflicts: our own changes and writes spread beyond the window are never held", "[conflict]") {
  ObjectHistory history;
  const Attribution ours{"spec.x", {}, std::nullopt};
  for (int i = 0; i < 10; ++i) CHECK(judge(history, ours, std::to_string(i), kT0 + seconds(i), minutes(5)).apply);
  const Attribution theirs{"spec.x", {"kubectl-edit"}, kT0};
  for (int i = 0; i < 5; ++i) {
    CHECK(judge(history, theirs, std::to_string(100 + i), kT0 + i * minutes(6), minutes(5)).apply);
  }
  CHECK_FALSE(history.held);
}

TEST_CASE("Conflicts: the quiet period doubles per hold up to an hour", "[conflict]") {
  CHECK(quiet_period(minutes(5), 1) == minutes(5));
  CHECK(quiet_period(minutes(5), 2) == minutes(10));
  CHECK(quiet_period(minutes(5), 4) == minutes(40));
  CHECK(quiet_period(minutes(5), 9) == minutes(60));
  CHECK(quiet_period(minutes(90), 3) == minutes(90));  // a longer one asked for stands
}

TEST_CASE("Conflicts: held objects survive a restart through the status", "[conflict]") {
  ConflictMemory memory;
  memory.resume_token = "r1";
  memory.objects["DaemonSet gpu-operator/x"].strikes = 2;
  memory.objects["DaemonSet gpu-operator/x"].held = Held{"gpu-operator", "spec.x", kT0, kT0 + minutes(1), 2};
  memory.objects["ServiceAccount gpu-operator/y"].repairs = {kT0};  // not held: not in the status
  const json status = {{"operandConflicts", conflicts_status(memory, minutes(5))}};
  CHECK(status["operandConflicts"]["held"].size() == 1);
  CHECK(status["operandConflicts"]["held"][0]["resumesAt"] == "2026-12-03T08:11:00Z");
  const ConflictMemory back = conflicts_from_status(status);
  CHECK(back.resume_token == "r1");
  REQUIRE(back.objects.count("DaemonSet gpu-operator/x"));
  CHECK(back.objects.at("DaemonSet gpu-operator/x").held == memory.objects["DaemonSet gpu-operator/x"].held);
  CHECK(conflicts_from_status(json{{"operandConflicts", "garbage"}}).objects.empty());
}
