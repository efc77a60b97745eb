// Observe: cached objects to typed inputs, and the adoption of objects that
// release 0.1.0 wrote under its legacy keys (fixtures hold those keys verbatim).
#include <catch2/catch.hpp>

#include "clusterpolicy/config_rollout.hpp"
#include "clusterpolicy/observe.hpp"
#include "clusterpolicy/snapshot.hpp"
#include "clusterpolicy/vocabulary.hpp"

using namespace cpo::clusterpolicy;
using json = nlohmann::json;
using std::chrono::seconds;

namespace {

json policy_annotated(const json& annotations) {
  return {{"metadata", {{"name", "cluster-policy"}, {"annotations", annotations}}}};
}

json daemonset(const json& template_annotations) {
  return {{"metadata", {{"name", "gpu-feature-discovery"}, {"generation", 2}}},
          {"spec", {{"template", {{"metadata", {{"annotations", template_annotations}}}}}}},
          {"status",
           {{"observedGeneration", 2}, {"desiredNumberScheduled", 2}, {"updatedNumberScheduled", 2},
            {"numberAvailable", 2}, {"numberReady", 2}}}};
}

}  // namespace

TEST_CASE("Every invented key is under the project's prefix, legacy keys under NVIDIA's domain", "[vocabulary]") {
  const std::string prefix = kKeyPrefix;
  for (const char* key : {kConfigHashAnnotation, kAppliedDigestAnnotation, kRolloutDeadlineAnnotation,
                          kSnapshotSourceLabel, kSnapshotHashLabel, kSnapshotSha256Annotation,
                          kSnapshotDefaultAnnotation, kSnapshotMigStrategyAnnotation}) {
    CHECK(std::string(key).rfind(prefix, 0) == 0);
  }
  for (const char* key : {legacy::kConfigHashAnnotation, legacy::kRolloutDeadlineAnnotation,
                          legacy::kSnapshotSourceLabel, legacy::kSnapshotSha256Annotation}) {
    CHECK(std::string(key).rfind("nvidia.com/", 0) == 0);
  }
  CHECK(find_key(json{{"b", "old"}}, {"a", "b"}) == "old");
  CHECK(find_key(json{{"a", "new"}, {"b", "old"}}, {"a", "b"}) == "new");
  CHECK_FALSE(find_key(json{{"c", "x"}}, {"a", "b"}));
  CHECK_FALSE(find_key(json(nullptr), {"a"}));
}

TEST_CASE("The rollout deadline annotation is read under both names, the new one first", "[observe][upgrade]") {
  struct Case {
    const char* name;
    json annotations;
    long expected_seconds;
    const char* problem;  // a part of the problem text; "" = no problem
  };
  const Case cases[] = {
      {"no annotation", json::object(), 600, ""},
      {"the current key", {{"clusterpolicy-operator.dev/rollout-deadline", "90s"}}, 90, ""},
      {"release 0.1.0's key", {{"nvidia.com/rollout-deadline", "2m"}}, 120, ""},
      {"both: the current key wins",
       {{"clusterpolicy-operator.dev/rollout-deadline", "30s"}, {"nvidia.com/rollout-deadline", "2m"}}, 30, ""},
      {"the current key, invalid: reported, the legacy one is not consulted",
       {{"clusterpolicy-operator.dev/rollout-deadline", "0s"}, {"nvidia.com/rollout-deadline", "2m"}}, 600,
       "annotation clusterpolicy-operator.dev/rollout-deadline=\"0s\" ignored (the rollout deadline must be longer than 0s); "
       "the rollout deadline is 600s"},
      {"the legacy key, invalid: reported under its name", {{"nvidia.com/rollout-deadline", "soon"}}, 600,
       "annotation nvidia.com/rollout-deadline=\"soon\" ignored"},
      {"an empty value is no annotation", {{"clusterpolicy-operator.dev/rollout-deadline", ""}}, 600, ""},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    auto deadline = rollout_deadline(policy_annotated(c.annotations), seconds(600));
    CHECK(deadline.value == seconds(c.expected_seconds));
    if (std::string(c.problem).empty()) {
      CHECK(deadline.problem.empty());
    } else {
      CHECK_THAT(deadline.problem, Catch::Contains(c.problem));
    }
  }
  CHECK(rollout_deadline(json{{"metadata", {{"name", "p"}}}}, seconds(42)).value == seconds(42));
}

TEST_CASE("A consumer's config hash is read from its pod template under both names", "[observe][upgrade]") {
  const json legacy_ds = daemonset({{"nvidia.com/device-plugin.config-hash", "old-hash"}});
  auto state = consumer_state("gpu-feature-discovery", &legacy_ds);
  CHECK(state.template_hash == "old-hash");
  CHECK(state.rolled_out);
  CHECK(state.desired == 2);

  const json both = daemonset({{"clusterpolicy-operator.dev/config-hash", "new-hash"},
                               {"nvidia.com/device-plugin.config-hash", "old-hash"}});
  CHECK(consumer_state("gpu-feature-discovery", &both).template_hash == "new-hash");

  const json none = daemonset(json::object());
  CHECK(consumer_state("gpu-feature-discovery", &none).template_hash.empty());

  auto absent = consumer_state("gpu-feature-discovery", nullptr);
  CHECK(absent.name == "gpu-feature-discovery");
  CHECK_FALSE(absent.rolled_out);
  CHECK(absent.template_hash.empty());
}

TEST_CASE("A snapshot written by release 0.1.0 under the legacy keys is found and read", "[snapshot][upgrade]") {
  const ConfigContent content{{{"mps-any", "version: v1\n"}}, "mps-any", "single"};
  const std::string hash = config_hash(content);
  // As release 0.1.0 wrote it.
  const json old_snapshot = {
      {"apiVersion", "v1"},
      {"kind", "ConfigMap"},
      {"metadata",
       {{"name", snapshot_name("mps-config-all", hash)},
        {"namespace", "gpu-operator"},
        {"creationTimestamp", "2026-01-01T00:00:00Z"},
        {"labels",
         {{"app.kubernetes.io/managed-by", "clusterpolicy-operator"},
          {"app.kubernetes.io/part-of", "clusterpolicy-operator"},
          {"nvidia.com/device-plugin.config-source", "mps-config-all"},
          {"nvidia.com/device-plugin.config-hash", hash}}},
        {"annotations",
         {{"nvidia.com/device-plugin.config-sha256", hash},
          {"nvidia.com/device-plugin.config-default", "mps-any"},
          {"nvidia.com/device-plugin.mig-strategy", "single"}}}}},
      {"immutable", true},
      {"data", {{"mps-any", "version: v1\n"}}}};
  auto read = read_snapshot(old_snapshot);
  REQUIRE(read);
  CHECK(read->name == snapshot_name("mps-config-all", hash));
  CHECK(read->hash == hash);
  CHECK(read->default_key == "mps-any");
  CHECK(read->mig_strategy == "single");
  CHECK(read->keys == std::set<std::string>{"mps-any"});
  CHECK(read->created == "2026-01-01T00:00:00Z");

  // The snapshot the new release would write for the same content has the same
  // name: the consumers keep mounting the old one, nothing is created.
  const json owner = {{"metadata", {{"name", "cluster-policy"}, {"uid", "u-1"}}}};
  const json fresh = render_snapshot("mps-config-all", content, "gpu-operator", owner);
  CHECK(fresh["metadata"]["name"] == old_snapshot["metadata"]["name"]);
  CHECK(fresh["metadata"]["labels"].contains(kSnapshotSourceLabel));
  CHECK_FALSE(fresh["metadata"]["labels"].contains(legacy::kSnapshotSourceLabel));

  // A legacy snapshot that did not pin the default or the MIG strategy reads as such.
  json unpinned = old_snapshot;
  unpinned["metadata"]["annotations"].erase("nvidia.com/device-plugin.config-default");
  unpinned["metadata"]["annotations"].erase("nvidia.com/device-plugin.mig-strategy");
  auto read_unpinned = read_snapshot(unpinned);
  REQUIRE(read_unpinned);
  CHECK_FALSE(read_unpinned->default_key);
  CHECK_FALSE(read_unpinned->mig_strategy);
}

TEST_CASE("After an upgrade the rollout record and legacy objects decide nothing new", "[config][upgrade]") {
  // Release 0.1.0 left: a snapshot under the legacy keys, consumers carrying its
  // hash under the legacy annotation, and its record in status.config.
  const char* doc = "version: v1\nsharing:\n  mps:\n    resources:\n    - name: nvidia.com/gpu\n      replicas: 4\n";
  const std::map<std::string, std::string> data = {{"mps-any", doc}};
  const std::string hash = config_hash({data, "mps-any", "none"});
  const json old_snapshot = {
      {"metadata",
       {{"name", snapshot_name("mps-config-all", hash)},
        {"creationTimestamp", "2026-01-01T00:00:00Z"},
        {"labels", {{"nvidia.com/device-plugin.config-source", "mps-config-all"}}},
        {"annotations",
         {{"nvidia.com/device-plugin.config-sha256", hash},
          {"nvidia.com/device-plugin.config-default", "mps-any"},
          {"nvidia.com/device-plugin.mig-strategy", "none"}}}}},
      {"data", data}};
  const json status_config = {{"appliedHash", hash}, {"desiredHash", hash},
                              {"progressSince", "2026-01-01T00:00:00Z"}};
  const json ds = daemonset({{"nvidia.com/device-plugin.config-hash", hash}});

  ConfigInputs in;
  in.ns = "gpu-operator";
  in.source_name = "mps-config-all";
  in.default_key = "mps-any";
  in.source_data = data;
  in.now = std::chrono::system_clock::time_point(std::chrono::seconds(1795000000));
  in.snapshots = {*read_snapshot(old_snapshot)};
  in.consumers = {consumer_state("gpu-feature-discovery", &ds)};
  in.record = RolloutRecord::from_status(status_config);

  auto decision = decide_config(in);
  CHECK(decision.outcome == ConfigOutcome::Current);
  CHECK_FALSE(decision.create_snapshot);
  REQUIRE(decision.source);
  CHECK(decision.source->configmap_name == snapshot_name("mps-config-all", hash));
  CHECK(decision.source->content_hash == hash);
  CHECK_FALSE(decision.rolled_out_message);  // it was rolled out before the upgrade
  CHECK(decision.record.applied_hash == hash);
}
