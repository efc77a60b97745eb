// Config-aware rollouts end to end, following the user guide: the operator
// watches the ConfigMap named by spec.devicePlugin.config.name, validates every
// edit, snapshots valid configs and rolls all three consumers; a bad edit never
// reaches a pod; a rollout whose pods never become ready is rolled back.
#include <catch2/catch.hpp>

#include <fstream>
#include <set>
#include <thread>

#include "clusterpolicy/render.hpp"
#include "clusterpolicy/snapshot.hpp"
#include "clusterpolicy/vocabulary.hpp"
#include "kube/client.hpp"
#include "support/config_environment.hpp"
#include "support/operator_process.hpp"
#include "support/test_cluster.hpp"

using namespace cpo;
using cpo::testing::TestCluster;
using json = nlohmann::json;
using namespace cpo::testing::config;

TEST_CASE("Config: the user guide's flow and an edit that rolls all consumers", "[config][integration]") {
  ConfigEnvironment env;
  env.kubectl("create -n " + kNs + " -f " + repo("examples/mps-config-all.yaml"));
  env.kubectl("apply -f " + repo("examples/clusterpolicy-minimal.yaml"));
  env.kubectl("patch clusterpolicies.nvidia.com/cluster-policy -n gpu-operator --type merge "
              "-p '{\"spec\": {\"devicePlugin\": {\"config\": {\"name\": \"mps-config-all\", \"default\": \"mps-any\"}}}}'");
  auto guide = env.admin.get(kube::resources::configmaps, {kNs, "mps-config-all", ""});
  std::map<std::string, std::string> data;
  for (auto it = guide["data"].begin(); it != guide["data"].end(); ++it) data[it.key()] = it.value();
  const std::string first = hash_of(data);

  INFO("operator log:\n" << env.op->log_tail());
  REQUIRE(testing::eventually([&] { return env.consumer_hash() == first; }, std::chrono::seconds(30)));
  const std::string first_snapshot = clusterpolicy::snapshot_name("mps-config-all", first);
  for (const auto& name : kConsumers) CHECK(env.mounted_configmap(name) == first_snapshot);
  auto snapshot = env.admin.get(kube::resources::configmaps, {kNs, first_snapshot, ""});
  CHECK(snapshot["immutable"] == true);
  CHECK(snapshot["data"] == guide["data"]);
  env.rollout_all();
  CHECK(testing::eventually([&] { return env.config_status().value("state", "") == "current"; }, std::chrono::seconds(20)));
  // kubectl get clusterpolicies: the CONFIG column names the default key and hash.
  CHECK(env.kubectl("get clusterpolicies.nvidia.com cluster-policy -o "
                    "custom-columns=CONFIG:.status.config.inEffect --no-headers").output.find("mps-any@" + first.substr(0, 10)) !=
        std::string::npos);

  // replicas: 4 -> 8 in the user's ConfigMap: no manual restart.
  data["mps-any"] = mps_doc(8);
  env.set_config(data);
  const std::string second = hash_of(data);
  CHECK(testing::eventually([&] { return env.consumer_hash() == second; }, std::chrono::seconds(30)));
  for (const auto& name : kConsumers) {
    CHECK(env.mounted_configmap(name) == clusterpolicy::snapshot_name("mps-config-all", second));
  }
  env.rollout_all();
  CHECK(testing::eventually([&] { return env.has_event("ConfigRolledOut", "cluster-policy"); }, std::chrono::seconds(20)));
  // The user's ConfigMap is never modified by the operator.
  auto after = env.admin.get(kube::resources::configmaps, {kNs, "mps-config-all", ""});
  CHECK(after["data"]["mps-any"] == mps_doc(8));
}

TEST_CASE("Config: invalid edits roll nothing and say why and a fix rolls", "[config][integration]") {
  ConfigEnvironment env;
  std::map<std::string, std::string> data = {{"mps-any", mps_doc(4)}};
  const std::string good = env.deploy(data);

  struct Bad {
    const char* name;
    std::string doc;
    const char* expected;
  };
  const Bad bad[] = {
      {"replicas 1", mps_doc(1), "number of replicas must be >= 2"},
      {"renameByDefault under flags", "version: v1\nflags:\n  renameByDefault: true\n" + mps_doc(4).substr(12),
       "renameByDefault"},
      {"64 MPS replicas", mps_doc(64), "48"},
  };
  for (const auto& b : bad) {
    INFO(b.name << "\noperator log:\n" << env.op->log_tail());
    env.set_config({{"mps-any", b.doc}});
    CHECK(testing::eventually([&] {
      auto c = env.condition("ConfigValid");
      return c.value("status", "") == "False" && c.value("message", "").find(b.expected) != std::string::npos;
    }, std::chrono::seconds(20)));
    CHECK(env.condition("Error").value("status", "") == "True");
    CHECK(env.condition("Error").value("reason", "") == "ConfigInvalid");
    std::this_thread::sleep_for(std::chrono::seconds(2));
    CHECK(env.consumer_hash() == good);  // nothing rolled
    CHECK(env.config_status()["errors"].size() >= 1);
  }
  CHECK(env.has_event("ConfigInvalid", "mps-config-all"));
  CHECK(env.has_event("ConfigInvalid", "cluster-policy"));
  auto metrics = env.op->get(env.op->metrics_port(), "/metrics");
  INFO(metrics.substr(metrics.find("clusterpolicy_operator_config_rejections_total")) << "\noperator log:\n" << env.op->log_tail());
  CHECK(metrics.find("clusterpolicy_operator_config_rejections_total{configmap=\"mps-config-all\"} 3") != std::string::npos);

  // The fix rolls.
  data["mps-any"] = mps_doc(6);
  env.set_config(data);
  CHECK(testing::eventually([&] { return env.consumer_hash() == hash_of(data); }, std::chrono::seconds(30)));
  CHECK(testing::eventually([&] { return env.condition("ConfigValid").value("status", "") == "True"; },
                            std::chrono::seconds(20)));
}

TEST_CASE("Config: a rejected default or a renamed ConfigMap never reaches the pods", "[config][integration]") {
  ConfigEnvironment env;
  std::map<std::string, std::string> data = {{"mps-any", mps_doc(4)}};
  const std::string good = env.deploy(data);
  const std::string good_snapshot = clusterpolicy::snapshot_name("mps-config-all", good);
  env.rollout_all();
  const auto settled = env.generations();
  INFO("operator log:\n" << env.op->log_tail());

  // A default naming no key: refused, and no template changes (the pods would
  // otherwise start a config-manager that exits on the unknown key).
  env.kubectl("patch clusterpolicies.nvidia.com/cluster-policy --type merge "
              "-p '{\"spec\": {\"devicePlugin\": {\"config\": {\"default\": \"mps-typo\"}}}}'");
  CHECK(testing::eventually([&] {
    auto c = env.condition("ConfigValid");
    return c.value("status", "") == "False" && c.value("message", "").find("mps-typo") != std::string::npos;
  }, std::chrono::seconds(20)));
  std::this_thread::sleep_for(std::chrono::seconds(2));
  CHECK(env.generations() == settled);

  // config.name switched to a ConfigMap that does not exist yet: the consumers
  // keep the previous source's snapshot.
  env.kubectl("patch clusterpolicies.nvidia.com/cluster-policy --type merge "
              "-p '{\"spec\": {\"devicePlugin\": {\"config\": {\"name\": \"mps-config-renamed\", \"default\": \"mps-any\"}}}}'");
  CHECK(testing::eventually([&] { return env.config_status().value("state", "") == "missing"; },
                            std::chrono::seconds(20)));
  std::this_thread::sleep_for(std::chrono::seconds(2));
  CHECK(env.generations() == settled);
  CHECK(env.mounted_configmap(kConsumers[0]) == good_snapshot);

  // Once it exists, it rolls.
  std::map<std::string, std::string> renamed = {{"mps-any", mps_doc(6)}};
  env.set_config(renamed, "mps-config-renamed");
  CHECK(testing::eventually([&] { return env.consumer_hash() == hash_of(renamed); }, std::chrono::seconds(30)));
  CHECK(env.mounted_configmap(kConsumers[0]) == clusterpolicy::snapshot_name("mps-config-renamed", hash_of(renamed)));
}

TEST_CASE("Config: a node selecting an unknown key is listed in status", "[config][integration]") {
  ConfigEnvironment env;
  env.deploy({{"mps-any", mps_doc(4)}});
  env.kubectl("label node gpu-node-2 nvidia.com/device-plugin.config=mps-typo --overwrite");
  CHECK(testing::eventually([&] {
    auto listed = env.config_status().value("nodesSelectingUnknownKeys", json::object());
    return listed.value("count", 0) == 1 && listed["first"][0] == "gpu-node-2=mps-typo";
  }, std::chrono::seconds(20)));
  CHECK(testing::eventually([&] { return env.has_event("NodeSelectsUnknownConfig", "cluster-policy"); },
                            std::chrono::seconds(10)));

  // A deadline annotation that is not a duration is reported, not silently dropped.
  env.kubectl("annotate clusterpolicies.nvidia.com/cluster-policy clusterpolicy-operator.dev/rollout-deadline=0s");
  CHECK(testing::eventually([&] {
    auto cp = env.admin.get(kube::resources::clusterpolicies, {"", "cluster-policy", ""});
    return cp["status"].value("notes", json::array()).dump().find("rollout-deadline=\\\"0s\\\" ignored") !=
           std::string::npos;
  }, std::chrono::seconds(20)));
  CHECK(testing::eventually([&] { return env.has_event("InvalidAnnotation", "cluster-policy"); },
                            std::chrono::seconds(10)));
}

TEST_CASE("Config: a rollout whose pods never become ready is rolled back", "[config][integration]") {
  ConfigEnvironment env;
  const std::string good = env.deploy({{"mps-any", mps_doc(4)}}, "8s");
  env.rollout_all();
  REQUIRE(testing::eventually([&] { return env.config_status().value("state", "") == "current"; }, std::chrono::seconds(20)));

  // The simulated kubelet crash-loops every pod of the next config.
  std::map<std::string, std::string> broken = {{"mps-any", mps_doc(12)}};
  const std::string bad = hash_of(broken);
  REQUIRE(env.cluster.harness("fail-pods", "--annotation " + kHashAnnotation + "=" + bad).exit_code == 0);
  env.set_config(broken);
  CHECK(testing::eventually([&] { return env.consumer_hash() == bad; }, std::chrono::seconds(30)));
  INFO("operator log:\n" << env.op->log_tail());
  CHECK(testing::eventually([&] { return env.consumer_hash() == good; }, std::chrono::seconds(60)));
  // The rollback writes the DaemonSets first and the status after, in the same reconcile.
  CHECK(testing::eventually([&] { return env.condition("Error").value("reason", "") == "RolloutFailed"; },
                            std::chrono::seconds(10)));
  CHECK(testing::eventually([&] {
    auto failed = env.config_status().value("failedHashes", json::array());
    return !failed.empty() && failed[0] == bad;
  }, std::chrono::seconds(10)));
  CHECK(testing::eventually([&] { return env.has_event("RolloutFailed", "cluster-policy"); }, std::chrono::seconds(10)));
  CHECK(env.op->get(env.op->metrics_port(), "/metrics").find(
            "clusterpolicy_operator_config_rollbacks_total{configmap=\"mps-config-all\"} 1") != std::string::npos);
  env.rollout_all();
}

TEST_CASE("Config: old snapshots are pruned to three", "[config][integration]") {
  ConfigEnvironment env;
  env.deploy({{"mps-any", mps_doc(2)}});
  for (int replicas = 3; replicas <= 7; ++replicas) {
    std::map<std::string, std::string> data = {{"mps-any", mps_doc(replicas)}};
    env.set_config(data);
    REQUIRE(testing::eventually([&] { return env.consumer_hash() == hash_of(data); }, std::chrono::seconds(30)));
    std::this_thread::sleep_for(std::chrono::milliseconds(1100));  // distinct creation times
  }
  env.rollout_all();
  CHECK(testing::eventually([&] { return env.snapshots().size() == 3; }, std::chrono::seconds(20)));
  auto kept = env.snapshots();
  CHECK(std::find(kept.begin(), kept.end(),
                  clusterpolicy::snapshot_name("mps-config-all", hash_of({{"mps-any", mps_doc(7)}}))) != kept.end());
}

namespace {

// Every key of `object` (labels, annotations, and the pod template's) renamed to the
// spelling release 0.1.0 wrote.
void to_release_0_1_0(json& object) {
  const std::pair<const char*, const char*> renamed[] = {
      {clusterpolicy::kConfigHashAnnotation, clusterpolicy::legacy::kConfigHashAnnotation},
      {clusterpolicy::kSnapshotSourceLabel, clusterpolicy::legacy::kSnapshotSourceLabel},
      {clusterpolicy::kSnapshotSha256Annotation, clusterpolicy::legacy::kSnapshotSha256Annotation},
      {clusterpolicy::kSnapshotDefaultAnnotation, clusterpolicy::legacy::kSnapshotDefaultAnnotation},
      {clusterpolicy::kSnapshotMigStrategyAnnotation, clusterpolicy::legacy::kSnapshotMigStrategyAnnotation}};
  auto rename = [&](json& map) {
    if (!map.is_object()) return;
    for (const auto& [now, then] : renamed) {
      if (map.contains(now)) {
        map[then] = map[now];
        map.erase(now);
      }
    }
  };
  for (const char* field : {"labels", "annotations"}) rename(object["metadata"][field]);
  if (object["metadata"]["labels"].contains(clusterpolicy::kSnapshotHashLabel)) {
    // The hash label and the template annotation shared one key in 0.1.0.
    object["metadata"]["labels"][clusterpolicy::legacy::kSnapshotHashLabel] =
        object["metadata"]["labels"][clusterpolicy::kSnapshotHashLabel];
    object["metadata"]["labels"].erase(clusterpolicy::kSnapshotHashLabel);
  }
  if (object.contains("spec") && object["spec"].contains("template")) {
    rename(object["spec"]["template"]["metadata"]["annotations"]);
  }
  // 0.1.0 stamped its applied digest on what it applied (not on snapshots, which it created).
  if (object.value("kind", "") != "ConfigMap") {
    object["metadata"]["annotations"][clusterpolicy::legacy::kAppliedDigestAnnotation] = "0123456789abcdef";
  }
}

}  // namespace

TEST_CASE("Upgrade: what release 0.1.0 wrote under the legacy keys is adopted, pods roll once",
          "[config][integration][upgrade]") {
  ConfigEnvironment env(/*start_operator=*/false);
  const std::string image = "nvcr.io/nvidia/k8s-device-plugin:v0.17.1";
  const std::map<std::string, std::string> data = {{"mps-any", mps_doc(4)}};
  const std::string hash = hash_of(data);
  const std::string snapshot = clusterpolicy::snapshot_name("mps-config-all", hash);

  // The cluster as release 0.1.0 left it: its snapshot, its operands, its record,
  // and the rollout deadline under the legacy annotation (invalid, so that the
  // status shows it was read).
  env.set_config(data);
  env.kubectl("apply -f " + repo("examples/clusterpolicy-minimal.yaml"));
  env.kubectl("patch clusterpolicies.nvidia.com/cluster-policy --type merge "
              "-p '{\"spec\": {\"devicePlugin\": {\"config\": {\"name\": \"mps-config-all\", \"default\": \"mps-any\"}}}}'");
  env.kubectl("annotate clusterpolicies.nvidia.com/cluster-policy nvidia.com/rollout-deadline=soon");
  const json policy = env.admin.get(kube::resources::clusterpolicies, {"", "cluster-policy", ""});
  json old_snapshot = clusterpolicy::render_snapshot("mps-config-all", {data, "mps-any", "none"}, kNs, policy);
  to_release_0_1_0(old_snapshot);
  const std::string snapshot_uid = env.admin.create(kube::resources::configmaps, old_snapshot)["metadata"]["uid"];

  clusterpolicy::RenderInputs inputs;
  inputs.cluster_policy = policy;
  inputs.ns = kNs;
  inputs.images = {image, image};
  inputs.runtime_class_exists = static_cast<bool>(env.admin.find(kube::resources::runtimeclasses, {"", "nvidia", ""}));
  inputs.config = clusterpolicy::ConfigSource{snapshot, hash, "mps-any", "none"};
  for (json object : clusterpolicy::render(inputs).objects) {
    const std::string kind = object["kind"];
    to_release_0_1_0(object);
    const kube::Resource& resource = kind == "DaemonSet"            ? kube::resources::daemonsets
                                     : kind == "ServiceAccount"     ? kube::resources::serviceaccounts
                                     : kind == "ClusterRole"        ? kube::resources::clusterroles
                                                                    : kube::resources::clusterrolebindings;
    env.admin.apply(resource, object, "clusterpolicy-operator", /*force=*/true);
  }
  env.admin.patch(kube::resources::clusterpolicies, {"", "cluster-policy", "status"}, kube::PatchType::Merge,
                  {{"status", {{"config", {{"name", "mps-config-all"}, {"state", "current"}, {"snapshot", snapshot},
                                           {"appliedHash", hash}, {"desiredHash", hash},
                                           {"progressSince", "2026-01-01T00:00:00Z"}}}}}});
  for (const auto& name : kConsumers) {
    auto result = env.cluster.kubectl("-n " + kNs + " rollout status daemonset/" + name + " --timeout=90s");
    INFO(result.output);
    REQUIRE(result.exit_code == 0);
  }
  const auto before = env.generations();

  env.start({"--device-plugin-image=" + image, "--gfd-image=" + image});
  INFO("operator log:\n" << env.op->log_tail());
  // The consumers carry the hash under the new key only, and still mount the old snapshot.
  CHECK(testing::eventually([&] {
    for (const auto& name : kConsumers) {
      auto ds = env.admin.get(kube::resources::daemonsets, {kNs, name, ""});
      const auto annotations = ds["spec"]["template"]["metadata"].value("annotations", json::object());
      if (annotations.value(kHashAnnotation, "") != hash ||
          annotations.contains(clusterpolicy::legacy::kConfigHashAnnotation) ||
          ds["metadata"]["annotations"].contains(clusterpolicy::legacy::kAppliedDigestAnnotation) ||
          !ds["metadata"]["annotations"].contains(clusterpolicy::kAppliedDigestAnnotation)) {
        return false;
      }
    }
    return true;
  }, std::chrono::seconds(30)));
  for (const auto& name : kConsumers) CHECK(env.mounted_configmap(name) == snapshot);
  // The legacy annotation was read, and reported as the invalid value it is.
  CHECK(testing::eventually([&] {
    auto cp = env.admin.get(kube::resources::clusterpolicies, {"", "cluster-policy", ""});
    return cp["status"].value("notes", json::array()).dump().find(
               "nvidia.com/rollout-deadline=\\\"soon\\\" ignored") != std::string::npos;
  }, std::chrono::seconds(20)));
  env.rollout_all();
  CHECK(testing::eventually([&] { return env.config_status().value("state", "") == "current"; }, std::chrono::seconds(20)));
  // The snapshot is the one release 0.1.0 created, not a copy; no other was made.
  CHECK(env.admin.get(kube::resources::configmaps, {kNs, snapshot, ""})["metadata"]["uid"] == snapshot_uid);
  CHECK(env.snapshots().empty());  // none under the new label
  CHECK(env.config_status().value("appliedHash", "") == hash);
  // One template change per consumer: the key rename.
  std::this_thread::sleep_for(std::chrono::seconds(2));
  auto after = env.generations();
  for (std::size_t i = 0; i < kConsumers.size(); ++i) {
    INFO(kConsumers[i]);
    CHECK(after[i] == before[i] + 1);
  }
}
