// The deployment artefacts against a real API server: the ClusterPolicy CRD (crds/),
// the examples (examples/), the RBAC rule files of the Helm chart
// (charts/clusterpolicy-operator/files/) and the plain install (manifests/install.yaml).
//
// Everything goes through kubectl, as a user would. Cluster-scoped objects get names
// unlikely to clash and are deleted at the end of each test; the one exception to
// unique names is `cluster-policy`, which the user guide's commands address by name.
// The CRD itself is applied (idempotently) and left in place: other tests use it.
#include <catch2/catch.hpp>

#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "kube/client.hpp"
#include "support/test_cluster.hpp"

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using cpo::testing::CommandResult;
using cpo::testing::shell_quote;
using cpo::testing::TestCluster;

const fs::path kRepo = CPO_REPO_DIR;
const std::string kCrdName = "clusterpolicies.nvidia.com";
const std::string kCrdFile = "crds/nvidia.com_clusterpolicies.yaml";
const std::string kChartDir = "charts/clusterpolicy-operator";
const std::string kOperatorNamespace = "gpu-operator";
// The static-token identity the harness gives the operator in tests (cluster up --sa).
const std::string kOperatorAccount = "gpu-operator";
// The ServiceAccount the chart (and manifests/install.yaml) creates for the operator.
const std::string kChartServiceAccount = "clusterpolicy-operator";

// Every top-level spec section of NVIDIA's ClusterPolicy.
const std::vector<std::string> kTypedSections = {"operator", "daemonsets", "devicePlugin", "gfd", "mig"};
const std::vector<std::string> kPreservedSections = {
    "driver",      "toolkit",    "dcgm",       "dcgmExporter",        "nodeStatusExporter",
    "migManager",  "psp",        "psa",        "validator",           "gds",
    "gdrcopy",     "sandboxWorkloads",         "vfioManager",         "sandboxDevicePlugin",
    "vgpuManager", "vgpuDeviceManager",        "cdi",                 "kataManager",
    "ccManager",   "hostPaths",  "kataSandboxDevicePlugin"};

std::string repo_path(const std::string& relative) { return shell_quote((kRepo / relative).string()); }

CommandResult kubectl(const std::string& args) { return TestCluster::get().kubectl(args); }

std::string read_file(const fs::path& path) {
  std::ifstream in(path);
  REQUIRE(in.good());
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

std::string random_suffix() {
  std::random_device rd;
  return std::to_string(rd() % 1000000);
}

// The JSON document in kubectl's output (warnings may precede it: stderr is merged).
json parse_output(const CommandResult& result) {
  INFO(result.output);
  REQUIRE(result.exit_code == 0);
  auto start = result.output.find('{');
  REQUIRE(start != std::string::npos);
  return json::parse(result.output.substr(start));
}

// Runs kubectl and requires success.
std::string ok(const std::string& args) {
  CommandResult result = kubectl(args);
  INFO("kubectl " << args << "\n" << result.output);
  REQUIRE(result.exit_code == 0);
  return result.output;
}

// A file in the temp folder, removed at the end of the scope.
class TempFile {
 public:
  explicit TempFile(const std::string& content, const std::string& suffix = ".yaml")
      : path_(fs::temp_directory_path() / ("cpo-crd-test-" + random_suffix() + suffix)) {
    std::ofstream(path_) << content;
  }
  ~TempFile() {
    std::error_code ignored;
    fs::remove(path_, ignored);
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  std::string arg() const { return shell_quote(path_.string()); }

 private:
  fs::path path_;
};

// Deletes the named objects (kubectl resource/name words) at the end of the scope.
class Cleanup {
 public:
  explicit Cleanup(std::vector<std::string> objects, std::string ns = {})
      : objects_(std::move(objects)), ns_(std::move(ns)) {}
  ~Cleanup() {
    for (const auto& object : objects_) {
      kubectl("delete " + object + (ns_.empty() ? "" : " -n " + ns_) + " --ignore-not-found --wait=true");
    }
  }
  Cleanup(const Cleanup&) = delete;
  Cleanup& operator=(const Cleanup&) = delete;

 private:
  std::vector<std::string> objects_;
  std::string ns_;
};

// The operator's namespace, created when missing and then deleted again at the end.
class OperatorNamespace {
 public:
  OperatorNamespace() {
    // A namespace still terminating (deleted by an earlier test) takes no new objects.
    REQUIRE(cpo::testing::eventually(
        [] {
          return kubectl("get namespace " + kOperatorNamespace + " -o jsonpath={.status.phase}").output !=
                 "Terminating";
        },
        std::chrono::seconds(60)));
    if (kubectl("get namespace " + kOperatorNamespace).exit_code != 0) {
      ok("create namespace " + kOperatorNamespace);
      created_ = true;
    }
  }
  ~OperatorNamespace() {
    if (created_) kubectl("delete namespace " + kOperatorNamespace + " --wait=true --timeout=60s");
  }
  OperatorNamespace(const OperatorNamespace&) = delete;
  OperatorNamespace& operator=(const OperatorNamespace&) = delete;

 private:
  bool created_ = false;
};

// Applies the CRD (idempotent) and waits until the API server serves it.
void ensure_crd() {
  ok("apply -f " + repo_path(kCrdFile));
  ok("wait --for condition=established --timeout=60s crd/" + kCrdName);
}

// Removes a ClusterPolicy `cluster-policy` left behind by an earlier, failed run.
void delete_cluster_policy() {
  ok("delete clusterpolicies.nvidia.com cluster-policy --ignore-not-found --wait=true");
}

json get_cluster_policy(const std::string& name) {
  return parse_output(kubectl("get clusterpolicies.nvidia.com " + name + " -o json"));
}

// The object kubectl makes of a manifest file, without sending it anywhere.
json manifest_as_json(const std::string& file_arg) {
  return parse_output(kubectl("create --dry-run=client -o json -f " + file_arg));
}

// A ClusterPolicy manifest with the given spec (YAML, indented by 2) and name.
std::string cluster_policy_yaml(const std::string& name, const std::string& spec_lines) {
  return "apiVersion: nvidia.com/v1\nkind: ClusterPolicy\nmetadata:\n  name: " + name + "\nspec:\n" +
         spec_lines;
}

// Plain YAML (strings, maps, lists) to JSON; every scalar becomes a string.
json yaml_to_json(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map: {
      json out = json::object();
      for (const auto& item : node) out[item.first.as<std::string>()] = yaml_to_json(item.second);
      return out;
    }
    case YAML::NodeType::Sequence: {
      json out = json::array();
      for (const auto& item : node) out.push_back(yaml_to_json(item));
      return out;
    }
    case YAML::NodeType::Scalar:
      return node.as<std::string>();
    default:
      return nullptr;
  }
}

// The rules of a chart RBAC file, as written.
std::string chart_rules_text(const std::string& file) {
  return read_file(kRepo / kChartDir / "files" / file);
}

json chart_rules(const std::string& file) {
  YAML::Node rules = YAML::Load(chart_rules_text(file));
  REQUIRE(rules.IsSequence());
  return yaml_to_json(rules);
}

// `rules:` followed by the file's text indented by two, as the chart's templates render it.
std::string rules_block(const std::string& text) {
  std::string trimmed = text;
  while (!trimmed.empty() && (trimmed.back() == '\n' || trimmed.back() == ' ')) trimmed.pop_back();
  std::string out = "rules:";
  std::istringstream lines(trimmed);
  for (std::string line; std::getline(lines, line);) out += "\n" + (line.empty() ? line : "  " + line);
  return out + "\n";
}

// One rule as the API server reports it, reduced to the fields the chart sets.
json rule(std::vector<std::string> groups, std::vector<std::string> resources, std::vector<std::string> verbs,
          std::vector<std::string> names = {}) {
  json r = {{"apiGroups", groups}, {"resources", resources}, {"verbs", verbs}};
  if (!names.empty()) r["resourceNames"] = names;
  return r;
}

json normalized_rules(const json& rules) {
  json out = json::array();
  for (const auto& r : rules) {
    out.push_back(rule(r.value("apiGroups", std::vector<std::string>{}),
                       r.value("resources", std::vector<std::string>{}), r.value("verbs", std::vector<std::string>{}),
                       r.value("resourceNames", std::vector<std::string>{})));
  }
  return out;
}

const std::vector<std::string> kAllVerbs = {"get", "list", "watch", "create", "update", "patch", "delete"};

// The operator's least-privilege permissions, as designed: a change to the chart's rule
// files must change this list too.
json expected_cluster_rules() {
  return json::array({
      rule({"nvidia.com"}, {"clusterpolicies"}, {"get", "list", "watch"}),
      rule({"nvidia.com"}, {"clusterpolicies/status"}, {"get", "update", "patch"}),
      rule({"nvidia.com"}, {"clusterpolicies/finalizers"}, {"update"}),
      rule({""}, {"nodes"}, {"get", "list", "watch", "patch"}),
      rule({"node.k8s.io"}, {"runtimeclasses"}, {"get", "list", "watch"}),
      rule({"rbac.authorization.k8s.io"}, {"clusterroles", "clusterrolebindings"}, {"get", "list", "watch", "create"}),
      rule({"rbac.authorization.k8s.io"}, {"clusterroles", "clusterrolebindings"}, {"update", "patch", "delete"},
           {"nvidia-device-plugin-config-manager"}),
      rule({""}, {"events"}, {"create", "patch"}),
      rule({"authentication.k8s.io"}, {"tokenreviews"}, {"create"}),
      rule({"authorization.k8s.io"}, {"subjectaccessreviews"}, {"create"}),
  });
}

json expected_namespace_rules() {
  return json::array({
      rule({""}, {"configmaps"}, {"get", "list", "watch", "create", "delete"}),
      rule({""}, {"serviceaccounts"}, kAllVerbs),
      rule({""}, {"events"}, {"create", "patch"}),
      rule({"apps"}, {"daemonsets"}, kAllVerbs),
      rule({"coordination.k8s.io"}, {"leases"}, {"get", "create", "update"}),
  });
}

// Expects the API server to refuse `manifest` with a message naming `field`.
void expect_rejected(const std::string& manifest, const std::string& field) {
  TempFile file(manifest);
  // --validate=false: the API server, not kubectl's client-side check, must refuse it.
  CommandResult result = kubectl("create --validate=false --dry-run=server -f " + file.arg());
  INFO(manifest << "\n--> " << result.output);
  CHECK(result.exit_code != 0);
  CHECK_THAT(result.output, Catch::Contains(field));
  CHECK_THAT(result.output, Catch::Contains("invalid"));
}

}  // namespace

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

TEST_CASE("The chart's RBAC rule files are valid rules and least privilege", "[deploy][rbac][integration]") {
  cpo::kube::Client client(TestCluster::get().admin_config());
  cpo::testing::ScopedNamespace ns(client, "crd-rbac");

  struct Case {
    std::string file, kind, expected_name;
    json expected;
  };
  const std::vector<Case> cases = {
      {"clusterrole-rules.yaml", "ClusterRole", "cluster", expected_cluster_rules()},
      {"role-rules.yaml", "Role", "namespaced", expected_namespace_rules()},
  };
  for (const auto& c : cases) {
    INFO(c.file);
    // Wrapped the way the chart's templates wrap them, and checked by the API server.
    std::string manifest = "apiVersion: rbac.authorization.k8s.io/v1\nkind: " + c.kind +
                           "\nmetadata:\n  name: crd-test-rules-" + random_suffix() +
                           (c.kind == "Role" ? "\n  namespace: " + ns.name() : std::string{}) + "\n" +
                           rules_block(chart_rules_text(c.file));
    TempFile file(manifest);
    json served = parse_output(kubectl("create --dry-run=server -o json -f " + file.arg()));
    json rules = normalized_rules(served["rules"]);
    CHECK(rules == normalized_rules(chart_rules(c.file)));
    CHECK(rules == c.expected);
  }
}

TEST_CASE("manifests/install.yaml applies and carries the chart's exact RBAC", "[deploy][rbac][integration]") {
  OperatorNamespace operator_namespace;
  std::string install = repo_path("manifests/install.yaml");
  ok("apply --dry-run=server -f " + install);

  std::string text = read_file(kRepo / "manifests" / "install.yaml");
  // Copied verbatim, comments included.
  CHECK_THAT(text, Catch::Contains(rules_block(chart_rules_text("clusterrole-rules.yaml"))));
  CHECK_THAT(text, Catch::Contains(rules_block(chart_rules_text("role-rules.yaml"))));

  std::map<std::string, YAML::Node> objects;  // kind -> object (one of each here, and the scrapers' ClusterRole)
  for (const auto& doc : YAML::LoadAll(text)) {
    if (!doc.IsMap()) continue;
    std::string kind = doc["kind"].as<std::string>();
    const std::string name = doc["metadata"]["name"].as<std::string>();
    if (kind == "ClusterRole" && name.size() > 15 && name.substr(name.size() - 15) == "-metrics-reader") {
      kind = "metrics-reader ClusterRole";
    }
    INFO(kind);
    CHECK(objects.count(kind) == 0);
    objects[kind] = doc;
  }
  for (const char* kind : {"Namespace", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding",
                           "Deployment", "Service"}) {
    INFO(kind);
    CHECK(objects.count(kind) == 1);
  }
  CHECK(yaml_to_json(objects["ClusterRole"]["rules"]) == chart_rules("clusterrole-rules.yaml"));
  // What a scraper of the HTTPS /metrics is bound to.
  REQUIRE(objects.count("metrics-reader ClusterRole") == 1);
  CHECK(yaml_to_json(objects["metrics-reader ClusterRole"]["rules"]) ==
        json::parse(R"([{"nonResourceURLs": ["/metrics"], "verbs": ["get"]}])"));
  CHECK(yaml_to_json(objects["Role"]["rules"]) == chart_rules("role-rules.yaml"));

  // The bindings give those rules to the ServiceAccount the Deployment runs as.
  std::string account = objects["ServiceAccount"]["metadata"]["name"].as<std::string>();
  CHECK(account == kChartServiceAccount);
  CHECK(objects["ServiceAccount"]["metadata"]["namespace"].as<std::string>() == kOperatorNamespace);
  for (const char* binding : {"ClusterRoleBinding", "RoleBinding"}) {
    INFO(binding);
    YAML::Node b = objects[binding];
    std::string role_kind = std::string(binding) == "RoleBinding" ? "Role" : "ClusterRole";
    CHECK(b["roleRef"]["kind"].as<std::string>() == role_kind);
    CHECK(b["roleRef"]["name"].as<std::string>() == objects[role_kind]["metadata"]["name"].as<std::string>());
    REQUIRE(b["subjects"].size() == 1);
    CHECK(b["subjects"][0]["kind"].as<std::string>() == "ServiceAccount");
    CHECK(b["subjects"][0]["name"].as<std::string>() == account);
    CHECK(b["subjects"][0]["namespace"].as<std::string>() == kOperatorNamespace);
  }

  YAML::Node pod = objects["Deployment"]["spec"]["template"]["spec"];
  CHECK(objects["Deployment"]["spec"]["replicas"].as<int>() == 1);
  // One replica, no leader election: Recreate keeps two operators from overlapping on upgrade.
  CHECK(objects["Deployment"]["spec"]["strategy"]["type"].as<std::string>() == "Recreate");
  CHECK(pod["serviceAccountName"].as<std::string>() == account);
  CHECK(pod["securityContext"]["runAsNonRoot"].as<bool>());
  REQUIRE(pod["containers"].size() == 1);
  YAML::Node container = pod["containers"][0];
  CHECK(yaml_to_json(container["args"]) ==
        json::array({"run", "--health-probe-bind-address=:8081", "--metrics-bind-address=:8443",
                     "--log-format=text", "--rollout-deadline=10m"}));
  std::set<std::string> env;
  for (const auto& e : container["env"]) env.insert(e["name"].as<std::string>());
  CHECK(env == std::set<std::string>{"POD_NAME", "OPERATOR_NAMESPACE", "DEVICE_PLUGIN_IMAGE", "GFD_IMAGE"});
  CHECK(container["livenessProbe"]["httpGet"]["path"].as<std::string>() == "/healthz");
  CHECK(container["readinessProbe"]["httpGet"]["path"].as<std::string>() == "/readyz");
  CHECK(container["securityContext"]["readOnlyRootFilesystem"].as<bool>());
  CHECK_FALSE(container["securityContext"]["allowPrivilegeEscalation"].as<bool>());
  CHECK(yaml_to_json(container["securityContext"]["capabilities"]["drop"]) == json::array({"ALL"}));
  YAML::Node port = objects["Service"]["spec"]["ports"][0];
  CHECK(port["name"].as<std::string>() == "https-metrics");
  CHECK(port["port"].as<int>() == 8443);
}

TEST_CASE("The chart's RBAC lets the operator identity do its work and no more", "[deploy][rbac][integration]") {
  const TestCluster& cluster = TestCluster::get();
  fs::path identity = cluster.identity_kubeconfig(kOperatorNamespace, kOperatorAccount);
  if (!fs::exists(identity)) {
    WARN("no identity kubeconfig " << identity << ": the cluster was started without --sa gpu-operator:gpu-operator");
    return;
  }
  ensure_crd();
  OperatorNamespace operator_namespace;

  // The chart's RBAC, bound to the operator's test identity under names of our own.
  std::string name = "crd-test-operator-" + random_suffix();
  std::string subject = "subjects:\n- kind: ServiceAccount\n  name: " + kOperatorAccount + "\n  namespace: " +
                        kOperatorNamespace + "\n";
  TempFile cluster_rbac("apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: " + name +
                        "\n" + rules_block(chart_rules_text("clusterrole-rules.yaml")) +
                        "---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata:\n  name: " +
                        name + "\nroleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: ClusterRole\n  name: " +
                        name + "\n" + subject);
  TempFile namespace_rbac("apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata:\n  name: " + name +
                          "\n  namespace: " + kOperatorNamespace + "\n" +
                          rules_block(chart_rules_text("role-rules.yaml")) +
                          "---\napiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata:\n  name: " +
                          name + "\n  namespace: " + kOperatorNamespace +
                          "\nroleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: Role\n  name: " + name + "\n" +
                          subject);
  Cleanup cleanup_cluster({"clusterrolebinding " + name, "clusterrole " + name});
  Cleanup cleanup_namespaced({"rolebinding " + name, "role " + name}, kOperatorNamespace);
  ok("apply -f " + cluster_rbac.arg());
  ok("apply -f " + namespace_rbac.arg());

  auto as_operator = [&](const std::string& args) {
    return cpo::testing::run_command("kubectl --kubeconfig " + shell_quote(identity.string()) + " " + args);
  };
  // `auth can-i` exits 0 for yes, 1 for no (its output may carry warnings).
  auto can = [&](const std::string& what) { return as_operator("auth can-i " + what).exit_code == 0; };
  const std::string ns = " -n " + kOperatorNamespace;

  const std::vector<std::string> allowed = {
      "watch clusterpolicies.nvidia.com",
      "patch clusterpolicies.nvidia.com --subresource=status",
      "update clusterpolicies.nvidia.com --subresource=status",
      "update clusterpolicies.nvidia.com --subresource=finalizers",
      "list nodes",
      "patch nodes",
      "watch runtimeclasses.node.k8s.io",
      "create clusterroles.rbac.authorization.k8s.io",
      "patch clusterroles.rbac.authorization.k8s.io/nvidia-device-plugin-config-manager",
      "delete clusterrolebindings.rbac.authorization.k8s.io/nvidia-device-plugin-config-manager",
      "create events -n default",
      "watch configmaps" + ns,
      "delete serviceaccounts" + ns,
      "patch events" + ns,
      "create daemonsets.apps" + ns,
      "create configmaps" + ns,
      "update leases.coordination.k8s.io" + ns,
      "create tokenreviews.authentication.k8s.io",           // secure /metrics: who a token names
      "create subjectaccessreviews.authorization.k8s.io",  // and whether it may get /metrics
  };
  // RBAC reaches the authorizer through its informers: give it a moment.
  REQUIRE(cpo::testing::eventually([&] { return can(allowed.front()) && can(allowed.back()); }));
  for (const auto& what : allowed) {
    INFO("can-i " << what);
    CHECK(can(what));
  }
  const std::vector<std::string> denied = {
      "delete clusterpolicies.nvidia.com",
      "create clusterpolicies.nvidia.com",
      "patch clusterpolicies.nvidia.com",  // only its status
      "update configmaps" + ns,             // the user's config is never modified
      "list pods" + ns,
      "create rolebindings.rbac.authorization.k8s.io" + ns,
      "delete clusterroles.rbac.authorization.k8s.io/cluster-admin",  // only the one it renders
      "patch clusterrolebindings.rbac.authorization.k8s.io/cluster-admin",
      "update clusterroles.rbac.authorization.k8s.io",
      "delete nodes",
      "create runtimeclasses.node.k8s.io",
      "get secrets" + ns,
      "list leases.coordination.k8s.io" + ns,
      "create pods" + ns,
      "create daemonsets.apps -n default",
      "get configmaps -n default",
      "create deployments.apps" + ns,
  };
  for (const auto& what : denied) {
    INFO("can-i " << what);
    CHECK_FALSE(can(what));
  }

  // The operator can create the operands' RBAC because it holds what that RBAC grants
  // (RBAC refuses to let anyone grant more than they have).
  std::string operand = "crd-test-operand-" + random_suffix();
  CommandResult grant_node_read =
      as_operator("create clusterrole " + operand + " --verb=get,list,watch --resource=nodes --dry-run=server");
  INFO(grant_node_read.output);
  CHECK(grant_node_read.exit_code == 0);
  CommandResult escalate =
      as_operator("create clusterrole " + operand + " --verb=get --resource=secrets --dry-run=server");
  INFO(escalate.output);
  CHECK(escalate.exit_code != 0);
}
