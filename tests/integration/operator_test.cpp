// The operator end to end: the real binary, under the chart's RBAC, against a
// real apiserver, kube-controller-manager (DaemonSet controller, garbage
// collector), kube-scheduler and KWOK. Each test case starts from no
// ClusterPolicy and runs its own operator process.
#include <catch2/catch.hpp>

#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include "kube/client.hpp"
#include "support/operator_environment.hpp"

using namespace cpo;
using cpo::testing::TestCluster;
using json = nlohmann::json;

using testing::operators::Environment;
using testing::operators::kDevicePlugin;
using testing::operators::kGfd;
using testing::operators::kMps;
using testing::operators::kNs;
using testing::operators::repo;

TEST_CASE("Operator: the example ClusterPolicy becomes three ready DaemonSets", "[operator][integration]") {
  Environment env;
  env.run("apply -f " + repo("examples/clusterpolicy.yaml"));
  json dp = env.wait_daemonset(kDevicePlugin);
  json mps = env.wait_daemonset(kMps);
  json gfd = env.wait_daemonset(kGfd);

  const json cp = env.policy();
  for (const json* ds : {&dp, &mps, &gfd}) {
    const auto& owner = (*ds)["metadata"]["ownerReferences"][0];
    CHECK(owner["kind"] == "ClusterPolicy");
    CHECK(owner["uid"] == cp["metadata"]["uid"]);
    CHECK(owner["controller"] == true);
    CHECK(owner["blockOwnerDeletion"] == true);
    CHECK((*ds)["spec"]["template"]["spec"]["runtimeClassName"] == "nvidia");
  }
  const json* plugin = Environment::container(dp, "nvidia-device-plugin");
  REQUIRE(plugin);
  CHECK((*plugin)["image"] == "nvcr.io/nvidia/k8s-device-plugin:v0.20.0");
  CHECK(dp["spec"]["template"]["spec"]["nodeSelector"] == json({{"nvidia.com/gpu.deploy.device-plugin", "true"}}));
  CHECK(mps["spec"]["template"]["spec"]["nodeSelector"]["nvidia.com/mps.capable"] == "true");
  CHECK(mps["spec"]["template"]["spec"]["hostPID"] == true);

  // The operator labelled the GPU nodes, and only those.
  auto node = [&](const std::string& name) { return env.admin.get(kube::resources::nodes, {"", name, ""}); };
  CHECK(testing::eventually([&] {
    return node("gpu-node-1")["metadata"]["labels"].value("nvidia.com/gpu.deploy.device-plugin", "") == "true";
  }));
  CHECK(node("gpu-node-2")["metadata"]["labels"].value("nvidia.com/gpu.deploy.gpu-feature-discovery", "") == "true");
  CHECK_FALSE(node("cpu-node-1")["metadata"]["labels"].contains("nvidia.com/gpu.deploy.device-plugin"));

  env.rollout(kDevicePlugin);
  env.rollout(kMps);
  env.rollout(kGfd);
  INFO("operator log:\n" << env.op->log_tail());
  CHECK(testing::eventually([&] { return env.policy_state("ready"); }, std::chrono::seconds(30)));
  json status = env.policy()["status"];
  CHECK(status["namespace"] == kNs);
  CHECK(status["conditions"][0]["type"] == "Ready");
  CHECK(status["conditions"][0]["status"] == "True");
  CHECK(status["conditions"][1]["type"] == "Error");
  CHECK(status["conditions"][1]["status"] == "False");
  auto count = [&](const std::string& selector) {
    return env.admin.list(kube::resources::nodes, "", kube::ListOptions{.label_selector = selector})["items"].size();
  };
  CHECK(status["operands"][kDevicePlugin]["available"] == count("nvidia.com/gpu.present=true"));
  CHECK(status["operands"][kMps]["available"] == count("nvidia.com/gpu.present=true,nvidia.com/mps.capable=true"));
  auto printed = env.run("get clusterpolicies");
  CHECK(printed.output.find("ready") != std::string::npos);

  // What a user sees in `kubectl get events`.
  CHECK(testing::eventually([&] {
    auto events = env.cluster.kubectl("get events -n default --field-selector involvedObject.name=cluster-policy");
    return events.output.find("Created") != std::string::npos;
  }, std::chrono::seconds(15)));
}

TEST_CASE("Operator: kubectl patch of env and image rolls the DaemonSets", "[operator][integration]") {
  Environment env;
  env.run("apply -f " + repo("examples/clusterpolicy-minimal.yaml"));
  env.wait_daemonset(kDevicePlugin);
  env.rollout(kDevicePlugin);
  env.run("patch clusterpolicies.nvidia.com/cluster-policy --type merge -p "
          "'{\"spec\":{\"devicePlugin\":{\"env\":[{\"name\":\"FAIL_ON_INIT_ERROR\",\"value\":\"false\"}],"
          "\"repository\":\"registry.example/nvidia\",\"image\":\"k8s-device-plugin\",\"version\":\"v9.9.9\"}}}'");
  CHECK(testing::eventually([&] {
    auto ds = env.daemonset(kDevicePlugin);
    const json* c = ds ? Environment::container(*ds, "nvidia-device-plugin") : nullptr;
    return c && (*c)["image"] == "registry.example/nvidia/k8s-device-plugin:v9.9.9" &&
           Environment::env_value(*c, "FAIL_ON_INIT_ERROR") == "false";
  }, std::chrono::seconds(30)));
  env.rollout(kDevicePlugin);
  auto pods = env.run("-n " + kNs + " get pods -l app=" + kDevicePlugin +
                      " -o jsonpath='{.items[*].spec.containers[0].image}'");
  CHECK(pods.output.find("v9.9.9") != std::string::npos);
  CHECK(pods.output.find("v0.20.0") == std::string::npos);
}

TEST_CASE("Operator: a deleted DaemonSet is recreated and a hand-edited image restored", "[operator][integration]") {
  Environment env;
  env.run("apply -f " + repo("examples/clusterpolicy-minimal.yaml"));
  json gfd = env.wait_daemonset(kGfd);
  env.run("-n " + kNs + " delete daemonset " + kGfd + " --wait=false");
  CHECK(testing::eventually([&] {
    auto again = env.daemonset(kGfd);
    return again && (*again)["metadata"]["uid"] != gfd["metadata"]["uid"];
  }, std::chrono::seconds(30)));

  json dp = env.wait_daemonset(kDevicePlugin);
  const std::string image = (*Environment::container(dp, "nvidia-device-plugin"))["image"];
  env.run("-n " + kNs + " set image daemonset/" + kDevicePlugin + " nvidia-device-plugin=evil.example/miner:1");
  CHECK(testing::eventually([&] {
    auto ds = env.daemonset(kDevicePlugin);
    return ds && (*Environment::container(*ds, "nvidia-device-plugin"))["image"] == image;
  }, std::chrono::seconds(30)));
}

TEST_CASE("Operator: kubectl rollout restart survives later reconciles", "[operator][integration]") {
  Environment env;
  env.run("apply -f " + repo("examples/clusterpolicy-minimal.yaml"));
  env.wait_daemonset(kDevicePlugin);
  env.run("-n " + kNs + " rollout restart daemonset/" + kDevicePlugin);
  // A spec change makes the operator apply the DaemonSet again.
  env.run("patch clusterpolicies.nvidia.com/cluster-policy --type merge -p "
          "'{\"spec\":{\"devicePlugin\":{\"env\":[{\"name\":\"AFTER_RESTART\",\"value\":\"1\"}]}}}'");
  CHECK(testing::eventually([&] {
    auto ds = env.daemonset(kDevicePlugin);
    return ds && Environment::env_value(*Environment::container(*ds, "nvidia-device-plugin"), "AFTER_RESTART") == "1";
  }, std::chrono::seconds(30)));
  auto ds = env.daemonset(kDevicePlugin);
  REQUIRE(ds);
  CHECK((*ds)["spec"]["template"]["metadata"]["annotations"].contains("kubectl.kubernetes.io/restartedAt"));
}

TEST_CASE("Operator: idle for 30 seconds it issues no write request", "[operator][integration]") {
  Environment env;  // no leader election: lease renewals would be writes
  env.run("apply -f " + repo("examples/clusterpolicy.yaml"));
  for (const auto& name : {kDevicePlugin, kMps, kGfd}) {
    env.wait_daemonset(name);
    env.rollout(name);
  }
  REQUIRE(testing::eventually([&] { return env.policy_state("ready"); }, std::chrono::seconds(30)));
  std::this_thread::sleep_for(std::chrono::seconds(3));  // last status write and events settle
  const std::vector<std::string> writes = {"POST", "PUT", "PATCH", "DELETE"};
  const double before = env.op->requests(writes);
  REQUIRE(before > 0);  // it did write to get here: the metric is real
  std::this_thread::sleep_for(std::chrono::seconds(30));
  INFO("operator log:\n" << env.op->log_tail());
  CHECK(env.op->requests(writes) == before);
}

TEST_CASE("Operator: a second ClusterPolicy is ignored in writing and takes over when the first goes",
          "[operator][integration]") {
  Environment env;
  env.run("apply -f " + repo("examples/clusterpolicy-minimal.yaml"));
  env.wait_daemonset(kDevicePlugin);
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));  // creationTimestamp has second resolution
  env.run("apply -f - <<'EOF'\napiVersion: nvidia.com/v1\nkind: ClusterPolicy\nmetadata:\n  name: second-policy\nspec: {}\nEOF");
  CHECK(testing::eventually([&] { return env.policy_state("ignored", "second-policy"); }, std::chrono::seconds(20)));
  json ignored = env.policy("second-policy")["status"];
  CHECK(ignored["conditions"][1]["message"].get<std::string>().find("\"cluster-policy\" is active") != std::string::npos);

  env.run("delete clusterpolicies.nvidia.com/cluster-policy --wait=true");
  INFO("operator log:\n" << env.op->log_tail());
  CHECK(testing::eventually([&] {
    auto ds = env.daemonset(kDevicePlugin);
    return ds && (*ds)["metadata"]["ownerReferences"][0]["name"] == "second-policy" &&
           (*ds)["metadata"]["ownerReferences"].size() == 1;
  }, std::chrono::seconds(60)));
  CHECK(testing::eventually([&] { return !env.policy_state("ignored", "second-policy"); }, std::chrono::seconds(20)));
}

TEST_CASE("Operator: deleting the ClusterPolicy garbage-collects its DaemonSets", "[operator][integration]") {
  Environment env;
  env.run("apply -f " + repo("examples/clusterpolicy-minimal.yaml"));
  env.wait_daemonset(kDevicePlugin);
  env.wait_daemonset(kGfd);
  env.run("delete clusterpolicies.nvidia.com/cluster-policy");
  CHECK(testing::eventually([&] { return env.admin.list(kube::resources::daemonsets, kNs)["items"].empty(); },
                            std::chrono::seconds(60)));
}

TEST_CASE("Operator: a field the render stops declaring is removed from the DaemonSets", "[operator][integration]") {
  Environment env;
  env.run("apply -f " + repo("examples/clusterpolicy-minimal.yaml"));
  json dp = env.wait_daemonset(kDevicePlugin);
  REQUIRE(dp["spec"]["template"]["spec"].value("runtimeClassName", "") == "nvidia");
  // Without the RuntimeClass, pods naming it would be refused: the operator stops
  // setting it, and server-side apply removes the field it owned.
  env.run("delete runtimeclass nvidia");
  INFO("operator log:\n" << env.op->log_tail());
  CHECK(testing::eventually([&] {
    auto ds = env.daemonset(kDevicePlugin);
    return ds && !(*ds)["spec"]["template"]["spec"].contains("runtimeClassName");
  }, std::chrono::seconds(30)));
  // The status says why.
  CHECK(testing::eventually([&] { return env.policy()["status"].dump().find("RuntimeClass") != std::string::npos; },
                            std::chrono::seconds(10)));
}

using testing::operators::reconciles;

// Typed CRD fields keep wrong types out, but a ClusterPolicy stored under a looser
// schema (NVIDIA's own CRD keeps unknown fields, or an object from before a schema
// change) reaches the operator as it is. A wrong type is then a terminal error
// until the ClusterPolicy changes: named in the status, one Warning Event, no retries.
TEST_CASE("Operator: a wrong-typed field is a terminal InvalidSpec with one Event and no retry loop",
          "[operator][integration]") {
  Environment env;
  // The CRD is shared by every later test: put back as shipped however this test ends.
  struct RestoreCrd {
    Environment& env;
    ~RestoreCrd() { env.cluster.kubectl("apply -f " + repo("crds/nvidia.com_clusterpolicies.yaml")); }
  } restore_crd{env};
  env.run(R"(patch crd clusterpolicies.nvidia.com --type json -p '[{"op": "replace", "path": "/spec/versions/0/schema/openAPIV3Schema/properties/spec", "value": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}]')");
  const std::string value = std::string(56, 'a') + "\u00e9bcd";  // cut inside the é at 57 bytes
  const std::string manifest = "apiVersion: nvidia.com/v1\nkind: ClusterPolicy\nmetadata: {name: cluster-policy}\n"
                               "spec:\n  devicePlugin: \"" + value + "\"\n";
  // The apiserver takes the looser schema a moment after the patch.
  REQUIRE(testing::eventually([&] {
    return env.cluster.kubectl("apply -f - <<'EOF'\n" + manifest + "EOF").exit_code == 0;
  }, std::chrono::seconds(30)));

  const std::string expected = "spec.devicePlugin: expected an object, got string \"" + std::string(56, 'a') + "...\"";
  json ready = json::object();
  INFO("operator log:\n" << env.op->log_tail());
  REQUIRE(testing::eventually([&] {
    auto p = env.policy();
    for (const auto& c : p.value("status", json::object()).value("conditions", json::array())) {
      if (c.value("type", "") == "Ready") ready = c;
    }
    return ready.value("reason", "") == "InvalidSpec";
  }, std::chrono::seconds(30)));
  CHECK(ready["status"] == "False");
  CHECK(ready["message"] == expected);
  CHECK(env.policy()["status"]["state"] == "notReady");

  // Settled: over 10 seconds no reconcile, no write, no failed reconcile.
  std::this_thread::sleep_for(std::chrono::seconds(3));
  const std::vector<std::string> writes = {"POST", "PUT", "PATCH", "DELETE"};
  const double reconciles_before = reconciles(*env.op);
  const double writes_before = env.op->requests(writes);
  REQUIRE(reconciles_before > 0);
  std::this_thread::sleep_for(std::chrono::seconds(10));
  CHECK(reconciles(*env.op) == reconciles_before);
  CHECK(env.op->requests(writes) == writes_before);
  CHECK_FALSE(env.daemonset(kDevicePlugin).has_value());

  // Exactly one Warning Event, seen once.
  const std::string uid = env.policy()["metadata"]["uid"];
  auto events = json::parse(env.cluster.kubectl(
      "get events -n default -o json --field-selector involvedObject.uid=" + uid + ",reason=InvalidSpec").output);
  REQUIRE(events["items"].size() == 1);
  CHECK(events["items"][0]["type"] == "Warning");
  CHECK(events["items"][0]["message"] == expected);
  CHECK(events["items"][0].value("count", 1) == 1);

  // A fix is a change of the ClusterPolicy: reconciled at once.
  env.run(R"(patch clusterpolicies.nvidia.com cluster-policy --type merge -p '{"spec": {"devicePlugin": {}}}')");
  env.wait_daemonset(kDevicePlugin);
}

namespace {

std::string file_text(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

// The most verbose level traces every request, through an apiserver restart too, and
// still writes no credential: neither the operator's token nor any other the cluster
// uses, nor a key.
TEST_CASE("Operator: at trace level every request is logged and no credential is", "[operator][integration]") {
  Environment env({"--log-level=trace", "--log-format=json"});
  env.run("apply -f " + repo("examples/clusterpolicy.yaml"));
  env.wait_daemonset(kDevicePlugin);
  auto set_env = [&](const std::string& value) {
    env.run(R"(patch clusterpolicies.nvidia.com cluster-policy --type merge -p '{"spec": {"devicePlugin": {"env": [{"name": "TRACE_TEST", "value": ")" +
            value + R"("}]}}}')");
    CHECK(testing::eventually([&] {
      const json ds = env.wait_daemonset(kDevicePlugin);
      const json* c = Environment::container(ds, "nvidia-device-plugin");
      return c && c->value("env", json::array()).dump().find("\"" + value + "\"") != std::string::npos;
    }, std::chrono::seconds(30)));
  };
  set_env("before-restart");
  REQUIRE(env.cluster.harness("restart-apiserver").exit_code == 0);
  set_env("after-restart");
  REQUIRE(env.op->stop() == 0);

  const std::string log = file_text(env.op->log_file());
  std::istringstream lines(log);
  std::size_t traced = 0;
  for (std::string line; std::getline(lines, line);) {
    const json entry = json::parse(line, nullptr, false);
    INFO(line);
    REQUIRE(entry.is_object());  // every line is one JSON object
    if (entry.value("level", "") == "trace") ++traced;
  }
  CHECK(traced > 10);
  CHECK(log.find("GET /api/v1/nodes") != std::string::npos);
  CHECK(log.find("daemonsets/nvidia-device-plugin-daemonset") != std::string::npos);

  std::vector<std::string> secrets = {"Bearer", "PRIVATE KEY"};
  // Every static token of the cluster (admin, components, the operator's identity):
  // tokens.csv holds token,user,uid per line.
  std::istringstream tokens(file_text(env.cluster.dir() / "tokens.csv"));
  for (std::string line; std::getline(tokens, line);) {
    if (!line.empty()) secrets.push_back(line.substr(0, line.find(',')));
  }
  REQUIRE(secrets.size() >= 5);
  for (const auto& secret : secrets) {
    REQUIRE(secret.size() >= 6);
    INFO("found in the log: " << secret);
    CHECK(log.find(secret) == std::string::npos);
  }
}
