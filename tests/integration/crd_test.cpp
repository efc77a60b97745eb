// The deployment artefacts against a real API server: the ClusterPolicy CRD (crds/),
// the examples (examples/), the RBAC rule files of the Helm chart
// (charts/clusterpolicy-operator/files/) and the plain install (manifests/install.yaml).
//
// Everything goes through kubectl, as a user would. Cluster-scoped objects get names
// unlikely to clash and are deleted at the end of each test; the one exception to
// unique names is `cluster-policy`, which the user guide's commands address by name.
// The CRD itself is applied (idempotently) and left in place: other tests use it.
#include <catch2/catch.hpp>

#include "support/deploy_support.hpp"

using namespace cpo::testing::deploy;

TEST_CASE("The ClusterPolicy CRD applies and becomes Established", "[deploy][crd][integration]") {
  ensure_crd();

  json crd = parse_output(kubectl("get crd " + kCrdName + " -o json"));
  std::map<std::string, std::string> conditions;
  for (const auto& c : crd["status"]["conditions"]) conditions[c["type"]] = c["status"];
  CHECK(conditions["Established"] == "True");
  CHECK(conditions["NamesAccepted"] == "True");
  CHECK(conditions.count("NonStructuralSchema") == 0);

  const json& spec = crd["spec"];
  CHECK(spec["group"] == "nvidia.com");
  CHECK(spec["scope"] == "Cluster");
  CHECK(spec["names"]["kind"] == "ClusterPolicy");
  CHECK(spec["names"]["listKind"] == "ClusterPolicyList");
  CHECK(spec["names"]["plural"] == "clusterpolicies");
  CHECK(spec["names"]["singular"] == "clusterpolicy");
  REQUIRE(spec["versions"].size() == 1);
  const json& v1 = spec["versions"][0];
  CHECK(v1["name"] == "v1");
  CHECK(v1["served"] == true);
  CHECK(v1["storage"] == true);
  CHECK(v1["subresources"]["status"] == json::object());

  std::map<std::string, std::pair<std::string, std::string>> columns;
  for (const auto& c : v1["additionalPrinterColumns"]) columns[c["name"]] = {c["jsonPath"], c["type"]};
  CHECK(columns["Status"] == std::pair<std::string, std::string>{".status.state", "string"});
  CHECK(columns["Age"] == std::pair<std::string, std::string>{".metadata.creationTimestamp", "date"});

  const json& props = v1["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"];
  for (const auto& section : kTypedSections) {
    INFO(section);
    CHECK(props[section].contains("properties"));
    CHECK_FALSE(props[section].value("x-kubernetes-preserve-unknown-fields", false));
  }
  for (const auto& section : kPreservedSections) {
    INFO(section);
    CHECK(props[section]["type"] == "object");
    CHECK(props[section]["x-kubernetes-preserve-unknown-fields"] == true);
  }
  CHECK_FALSE(v1["schema"]["openAPIV3Schema"]["properties"]["spec"].contains("required"));

  // The Helm chart installs the same file (a symlink into crds/).
  fs::path chart_crd = kRepo / kChartDir / "crds" / "nvidia.com_clusterpolicies.yaml";
  CHECK(fs::is_symlink(chart_crd));
  CHECK(read_file(chart_crd) == read_file(kRepo / kCrdFile));
}

TEST_CASE("The example ClusterPolicies apply unchanged and read back whole", "[deploy][crd][integration]") {
  ensure_crd();
  delete_cluster_policy();
  Cleanup cleanup({"clusterpolicies.nvidia.com cluster-policy"});

  SECTION("the full example keeps every section of NVIDIA's ClusterPolicy") {
    std::string file = repo_path("examples/clusterpolicy.yaml");
    json expected = manifest_as_json(file);
    ok("apply -f " + file);
    json got = get_cluster_policy("cluster-policy");
    CHECK(got["metadata"]["name"] == "cluster-policy");
    // Nothing pruned, nothing defaulted: the spec reads back exactly as written.
    CHECK(got["spec"] == expected["spec"]);
    for (const auto& section : kTypedSections) {
      INFO(section);
      CHECK(got["spec"].contains(section));
    }
    for (const auto& section : kPreservedSections) {
      INFO(section);
      CHECK(got["spec"].contains(section));
    }
    // Deeply nested fields of sections this operator ignores survive too.
    CHECK(got["spec"]["driver"]["upgradePolicy"]["drain"]["timeoutSeconds"] == 300);
    CHECK(got["spec"]["kataManager"]["config"]["runtimeClasses"][1]["nodeSelector"]["nvidia.com/cc.capable"] ==
          "true");
    CHECK(got["spec"]["dcgmExporter"]["serviceMonitor"]["relabelings"] == json::array());
    // Applying it a second time changes nothing.
    CHECK_THAT(ok("apply -f " + file), Catch::Contains("unchanged"));
  }

  SECTION("the minimal example is accepted with an empty spec") {
    std::string file = repo_path("examples/clusterpolicy-minimal.yaml");
    ok("apply -f " + file);
    json got = get_cluster_policy("cluster-policy");
    CHECK(got["spec"] == json::object());
  }
}

TEST_CASE("kubectl get clusterpolicies prints the STATUS, CONFIG, UPDATED, IN-EFFECT and AGE columns", "[deploy][crd][integration]") {
  ensure_crd();
  std::string name = "crd-test-columns-" + random_suffix();
  TempFile manifest(cluster_policy_yaml(name, "  mig:\n    strategy: none\n"));
  Cleanup cleanup({"clusterpolicies.nvidia.com " + name});
  ok("create -f " + manifest.arg());
  ok("patch clusterpolicies.nvidia.com " + name +
     R"( --subresource=status --type merge -p '{"status": {"state": "ready", "namespace": "gpu-operator",)"
     R"( "config": {"inEffect": "mps-any@0123456789", "updatedNodes": "3/4", "state": "Rolling"},)"
     R"( "effect": {"summary": "2/4", "gpuNodes": 4, "inEffect": 2, "pending": 2}}}')");

  std::string table = ok("get clusterpolicies.nvidia.com " + name);
  std::istringstream lines(table);
  std::string header, row;
  std::getline(lines, header);
  std::getline(lines, row);
  std::istringstream header_words(header), row_words(row);
  std::vector<std::string> columns{std::istream_iterator<std::string>(header_words), {}};
  std::vector<std::string> values{std::istream_iterator<std::string>(row_words), {}};
  CHECK(columns == std::vector<std::string>{"NAME", "STATUS", "CONFIG", "UPDATED", "IN-EFFECT", "AGE"});
  REQUIRE(values.size() == 6);
  CHECK(values[0] == name);
  CHECK(values[1] == "ready");
  CHECK(values[2] == "mps-any@0123456789");
  CHECK(values[3] == "3/4");
  CHECK(values[4] == "2/4");

  // Listing every ClusterPolicy (the user's `kubectl get clusterpolicies`) shows them too.
  CHECK_THAT(ok("get clusterpolicies"), Catch::Contains("STATUS") && Catch::Contains("AGE") && Catch::Contains(name));
}

TEST_CASE("The API server rejects bad ClusterPolicy values and names the field", "[deploy][crd][integration]") {
  ensure_crd();
  std::string name = "crd-test-invalid-" + random_suffix();

  expect_rejected(cluster_policy_yaml(name, "  mig:\n    strategy: bogus\n"), "spec.mig.strategy");
  expect_rejected(cluster_policy_yaml(name, "  daemonsets:\n    updateStrategy: Sometimes\n"),
                  "spec.daemonsets.updateStrategy");
  expect_rejected(cluster_policy_yaml(name, "  devicePlugin:\n    imagePullPolicy: Maybe\n"),
                  "spec.devicePlugin.imagePullPolicy");
  expect_rejected(cluster_policy_yaml(name, "  devicePlugin:\n    env:\n    - value: \"1\"\n"),
                  "spec.devicePlugin.env");
  expect_rejected(cluster_policy_yaml(name, "  gfd:\n    env:\n    - value: \"1\"\n"), "spec.gfd.env");
  expect_rejected(cluster_policy_yaml(name, "  gfd:\n    imagePullPolicy: Sometimes\n"), "spec.gfd.imagePullPolicy");
  expect_rejected(cluster_policy_yaml(name, "  operator:\n    defaultRuntime: podman\n"),
                  "spec.operator.defaultRuntime");
  expect_rejected(cluster_policy_yaml(name,
                                      "  daemonsets:\n    tolerations:\n    - key: a\n      operator: Sometimes\n"),
                  "spec.daemonsets.tolerations");
  expect_rejected(cluster_policy_yaml(name, "  daemonsets:\n    tolerations:\n    - key: a\n      effect: Never\n"),
                  "spec.daemonsets.tolerations");
  expect_rejected(cluster_policy_yaml(name, "  daemonsets:\n    rollingUpdate:\n      maxUnavailable: true\n"),
                  "spec.daemonsets.rollingUpdate.maxUnavailable");
  expect_rejected(cluster_policy_yaml(name, "  devicePlugin:\n    resources:\n      limits:\n        cpu: lots\n"),
                  "spec.devicePlugin.resources.limits.cpu");
  expect_rejected(cluster_policy_yaml(name, "  devicePlugin:\n    enabled: maybe\n"), "spec.devicePlugin.enabled");
  expect_rejected(cluster_policy_yaml(name, "  mig: single\n"), "spec.mig");

  // Good values of the same fields pass (the dry run stores nothing).
  TempFile good(cluster_policy_yaml(name,
                                    "  mig:\n    strategy: mixed\n"
                                    "  daemonsets:\n    updateStrategy: OnDelete\n"
                                    "    rollingUpdate:\n      maxUnavailable: 25%\n"
                                    "    tolerations:\n    - operator: Exists\n"
                                    "  devicePlugin:\n    imagePullPolicy: Always\n    env:\n    - name: A\n"
                                    "    resources:\n      limits:\n        cpu: 500m\n        memory: 1Gi\n"
                                    "  operator:\n    defaultRuntime: crio\n"));
  CommandResult accepted = kubectl("create --validate=false --dry-run=server -f " + good.arg());
  INFO(accepted.output);
  CHECK(accepted.exit_code == 0);
}

TEST_CASE("The user guide's kubectl patch of cluster-policy works", "[deploy][crd][integration]") {
  ensure_crd();
  delete_cluster_policy();
  Cleanup cleanup({"clusterpolicies.nvidia.com cluster-policy"});
  ok("apply -f " + repo_path("examples/clusterpolicy-minimal.yaml"));

  // Exactly the commands of the user guide (-n is ignored: ClusterPolicy is cluster-scoped).
  ok(R"(patch clusterpolicies.nvidia.com/cluster-policy -n gpu-operator --type merge -p '{"spec": {"devicePlugin": {"config": {"name": "mps-config-all", "default": "mps-any"}}}}')");
  json got = get_cluster_policy("cluster-policy");
  CHECK(got["spec"]["devicePlugin"]["config"] == json({{"name", "mps-config-all"}, {"default", "mps-any"}}));
  CHECK(got["metadata"]["generation"] == 2);

  ok(R"(patch clusterpolicies.nvidia.com/cluster-policy -n gpu-operator --type merge -p '{"spec": {"devicePlugin": {"config": {"name": "mps-config-fine"}}}}')");
  got = get_cluster_policy("cluster-policy");
  CHECK(got["spec"]["devicePlugin"]["config"]["name"] == "mps-config-fine");

  // The same patch on the full example leaves every other section alone.
  ok("delete clusterpolicies.nvidia.com cluster-policy --wait=true");
  std::string full = repo_path("examples/clusterpolicy.yaml");
  json before = manifest_as_json(full);
  ok("apply -f " + full);
  ok(R"(patch clusterpolicies.nvidia.com/cluster-policy -n gpu-operator --type merge -p '{"spec": {"devicePlugin": {"config": {"name": "mps-config-all", "default": "mps-any"}}}}')");
  got = get_cluster_policy("cluster-policy");
  json expected = before["spec"];
  expected["devicePlugin"]["config"] = {{"name", "mps-config-all"}, {"default", "mps-any"}};
  CHECK(got["spec"] == expected);
}

TEST_CASE("NVIDIA's own ClusterPolicies apply unchanged: its sample and what its chart renders",
          "[deploy][crd][integration]") {
  ensure_crd();
  delete_cluster_policy();
  Cleanup cleanup({"clusterpolicies.nvidia.com cluster-policy", "clusterpolicies.nvidia.com gpu-cluster-policy"});
  for (const char* fixture : {"nvidia-sample-clusterpolicy.yaml", "nvidia-chart-clusterpolicy.yaml"}) {
    INFO(fixture);
    std::string file = repo_path(std::string("tests/integration/fixtures/") + fixture);
    json expected = manifest_as_json(file);
    // Empty strings ("") and nulls as NVIDIA writes them are taken as they are.
    ok("create -f " + file);
    json got = get_cluster_policy(expected["metadata"]["name"]);
    CHECK(got["spec"] == expected["spec"]);
  }
  json chart = get_cluster_policy("cluster-policy");
  CHECK(chart["spec"]["devicePlugin"]["config"] == json({{"name", "mps-config-all"}, {"default", ""}}));
  CHECK(chart["spec"]["daemonsets"]["rollingUpdate"]["maxUnavailable"] == "1");
}

TEST_CASE("The API server refuses inconsistent ClusterPolicy fields at edit time (CEL rules)",
          "[deploy][crd][integration]") {
  ensure_crd();
  std::string name = "crd-test-cel-" + random_suffix();
  auto dp = [&](const std::string& lines) { return cluster_policy_yaml(name, "  devicePlugin:\n" + lines); };
  auto max_unavailable = [&](const std::string& value) {
    return cluster_policy_yaml(name, "  daemonsets:\n    rollingUpdate:\n      maxUnavailable: " + value + "\n");
  };

  SECTION("config.default without config.name") {
    expect_rejected(dp("    config:\n      default: mps-any\n"), "spec.devicePlugin.config");
    expect_rejected(dp("    config:\n      name: \"\"\n      default: mps-any\n"), "config.default");
  }
  SECTION("a partial image triple") {
    expect_rejected(dp("    repository: nvcr.io/nvidia\n    image: k8s-device-plugin\n"), "spec.devicePlugin");
    expect_rejected(dp("    version: v0.20.0\n"), "repository, image and version go together");
    expect_rejected(cluster_policy_yaml(name, "  gfd:\n    repository: nvcr.io/nvidia\n    version: v0.20.0\n"),
                    "spec.gfd");
  }
  SECTION("maxUnavailable that is not 1 or more nodes, or 1% to 100%") {
    for (const char* bad : {"0", "\"0\"", "\"0%\"", "\"150%\"", "\"many\"", "-1"}) {
      INFO(bad);
      expect_rejected(max_unavailable(bad), "spec.daemonsets.rollingUpdate.maxUnavailable");
    }
  }
  SECTION("the consistent forms pass") {
    for (const std::string& good :
         {dp("    config:\n      name: \"\"\n      default: \"\"\n"),
          dp("    config:\n      name: mps-config-all\n      default: mps-any\n"),
          dp("    image: registry.example/k8s-device-plugin:v0.20.0\n"),
          dp("    repository: nvcr.io/nvidia\n    image: k8s-device-plugin\n    version: v0.20.0\n"),
          dp("    repository: \"\"\n    image: registry.example/k8s-device-plugin:v0.20.0\n    version: \"\"\n"),
          max_unavailable("2"),
          max_unavailable("\"1\""), max_unavailable("\"10%\""), max_unavailable("\"100%\"")}) {
      TempFile file(good);
      CommandResult accepted = kubectl("create --validate=false --dry-run=server -f " + file.arg());
      INFO(good << "\n--> " << accepted.output);
      CHECK(accepted.exit_code == 0);
    }
  }
}

TEST_CASE("The ClusterPolicy status subresource takes the operator's status", "[deploy][crd][integration]") {
  ensure_crd();
  std::string name = "crd-test-status-" + random_suffix();
  TempFile manifest(cluster_policy_yaml(name, "  devicePlugin:\n    enabled: true\n"));
  Cleanup cleanup({"clusterpolicies.nvidia.com " + name});
  ok("create -f " + manifest.arg());
  std::string resource = "clusterpolicies.nvidia.com " + name;

  json status = {
      {"state", "notReady"},
      {"namespace", "gpu-operator"},
      {"observedGeneration", 1},
      {"conditions",
       {{{"type", "Ready"}, {"status", "False"}, {"reason", "OperandNotReady"},
         {"message", "nvidia-device-plugin-daemonset: 0 of 2 pods ready"},
         {"lastTransitionTime", "2025-01-02T03:04:05Z"}, {"observedGeneration", 1}},
        {{"type", "Error"}, {"status", "False"}, {"reason", "Reconciled"}, {"message", "no error"},
         {"lastTransitionTime", "2025-01-02T03:04:05Z"}, {"observedGeneration", 1}}}},
      // Per-operand details: not in the schema, kept as written.
      {"operands", {{"devicePlugin", {{"ready", false}, {"desired", 2}}}}},
  };
  TempFile patch(json({{"status", status}}).dump(), ".json");
  ok("patch " + resource + " --subresource=status --type merge --patch-file " + patch.arg());

  json got = get_cluster_policy(name);
  CHECK(got["status"] == status);
  // Writing status does not bump the generation the operator compares against.
  CHECK(got["metadata"]["generation"] == 1);

  // The main endpoint ignores status, the status endpoint ignores spec.
  ok("patch " + resource + R"( --type merge -p '{"status": {"state": "ready"}}')");
  CHECK(get_cluster_policy(name)["status"]["state"] == "notReady");
  ok("patch " + resource +
     R"( --subresource=status --type merge )"
     R"(-p '{"spec": {"mig": {"strategy": "mixed"}}, "status": {"state": "ready"}}')");
  got = get_cluster_policy(name);
  CHECK(got["status"]["state"] == "ready");
  CHECK_FALSE(got["spec"].contains("mig"));
  CHECK(got["metadata"]["generation"] == 1);
  ok("patch " + resource + R"( --type merge -p '{"spec": {"mig": {"strategy": "mixed"}}}')");
  CHECK(get_cluster_policy(name)["metadata"]["generation"] == 2);

  // `ignored`, the state written for every ClusterPolicy but the oldest, is valid.
  ok("patch " + resource + R"( --subresource=status --type merge -p '{"status": {"state": "ignored"}}')");
  CHECK(get_cluster_policy(name)["status"]["state"] == "ignored");

  // Bad status values are refused, naming the field.
  CommandResult bad_state =
      kubectl("patch " + resource + R"( --subresource=status --type merge -p '{"status": {"state": "bogus"}}')");
  CHECK(bad_state.exit_code != 0);
  CHECK_THAT(bad_state.output, Catch::Contains("status.state"));
  CommandResult bad_condition = kubectl(
      "patch " + resource +
      R"( --subresource=status --type merge -p '{"status": {"conditions": [{"type": "Ready", "status": "Maybe"}]}}')");
  CHECK(bad_condition.exit_code != 0);
  CHECK_THAT(bad_condition.output, Catch::Contains("status.conditions"));
  CommandResult bad_time = kubectl(
      "patch " + resource +
      R"( --subresource=status --type merge -p '{"status": {"conditions": [{"type": "Ready", "status": "True", )"
      R"("lastTransitionTime": "yesterday"}]}}')");
  CHECK(bad_time.exit_code != 0);
  CHECK_THAT(bad_time.output, Catch::Contains("lastTransitionTime"));
}

TEST_CASE("The example MPS ConfigMaps create in the operator namespace", "[deploy][examples][integration]") {
  cpo::kube::Client client(TestCluster::get().admin_config());
  cpo::testing::ScopedNamespace ns(client, "crd-examples");

  struct Expected {
    std::string file, name;
    std::map<std::string, int> replicas;  // data key -> MPS replicas
  };
  const std::vector<Expected> examples = {
      {"examples/mps-config-all.yaml", "mps-config-all", {{"mps-any", 4}}},
      {"examples/mps-config-fine.yaml", "mps-config-fine", {{"mps-two", 2}, {"mps-four", 4}}},
  };
  for (const auto& example : examples) {
    INFO(example.file);
    // The guide passes the namespace on the command line; the files carry none.
    YAML::Node manifest = YAML::LoadFile((kRepo / example.file).string());
    CHECK_FALSE(manifest["metadata"]["namespace"]);
    ok("create -n " + ns.name() + " -f " + repo_path(example.file));

    json got = parse_output(kubectl("get configmap " + example.name + " -n " + ns.name() + " -o json"));
    REQUIRE(got["data"].size() == example.replicas.size());
    for (const auto& [key, replicas] : example.replicas) {
      INFO(key);
      REQUIRE(got["data"].contains(key));
      YAML::Node config = YAML::Load(got["data"][key].get<std::string>());
      CHECK(config["version"].as<std::string>() == "v1");
      YAML::Node resources = config["sharing"]["mps"]["resources"];
      REQUIRE(resources.IsSequence());
      REQUIRE(resources.size() == 1);
      CHECK(resources[0]["name"].as<std::string>() == "nvidia.com/gpu");
      CHECK(resources[0]["replicas"].as<int>() == replicas);
    }
  }
}
