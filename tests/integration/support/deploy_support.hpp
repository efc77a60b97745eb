// What the deployment tests share (crd_test.cpp, deploy_rbac_test.cpp): kubectl
// through the test cluster's admin, the repository's files, temporary files and
// cleanups, the CRD, and the chart's RBAC rule files read and normalised.
#pragma once

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

namespace cpo::testing::deploy {

namespace fs = std::filesystem;
using json = nlohmann::json;
using cpo::testing::CommandResult;
using cpo::testing::shell_quote;
using cpo::testing::TestCluster;

inline const fs::path kRepo = CPO_REPO_DIR;
inline const std::string kCrdName = "clusterpolicies.nvidia.com";
inline const std::string kCrdFile = "crds/nvidia.com_clusterpolicies.yaml";
inline const std::string kChartDir = "charts/clusterpolicy-operator";
inline const std::string kOperatorNamespace = "gpu-operator";
// The static-token identity the harness gives the operator in tests (cluster up --sa).
inline const std::string kOperatorAccount = "gpu-operator";
// The ServiceAccount the chart (and manifests/install.yaml) creates for the operator.
inline const std::string kChartServiceAccount = "clusterpolicy-operator";

// Every top-level spec section of NVIDIA's ClusterPolicy.
inline const std::vector<std::string> kTypedSections = {"operator", "daemonsets", "devicePlugin", "gfd", "mig"};
inline const std::vector<std::string> kPreservedSections = {
    "driver",      "toolkit",    "dcgm",       "dcgmExporter",        "nodeStatusExporter",
    "migManager",  "psp",        "psa",        "validator",           "gds",
    "gdrcopy",     "sandboxWorkloads",         "vfioManager",         "sandboxDevicePlugin",
    "vgpuManager", "vgpuDeviceManager",        "cdi",                 "kataManager",
    "ccManager",   "hostPaths",  "kataSandboxDevicePlugin"};

inline std::string repo_path(const std::string& relative) { return shell_quote((kRepo / relative).string()); }

inline CommandResult kubectl(const std::string& args) { return TestCluster::get().kubectl(args); }

inline std::string read_file(const fs::path& path) {
  std::ifstream in(path);
  REQUIRE(in.good());
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

inline std::string random_suffix() {
  std::random_device rd;
  return std::to_string(rd() % 1000000);
}

// The JSON document in kubectl's output (warnings may precede it: stderr is merged).
inline json parse_output(const CommandResult& result) {
  INFO(result.output);
  REQUIRE(result.exit_code == 0);
  auto start = result.output.find('{');
  REQUIRE(start != std::string::npos);
  return json::parse(result.output.substr(start));
}

// Runs kubectl and requires success.
inline std::string ok(const std::string& args) {
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
inline void ensure_crd() {
  ok("apply -f " + repo_path(kCrdFile));
  ok("wait --for condition=established --timeout=60s crd/" + kCrdName);
}

// Removes a ClusterPolicy `cluster-policy` left behind by an earlier, failed run.
inline void delete_cluster_policy() {
  ok("delete clusterpolicies.nvidia.com cluster-policy --ignore-not-found --wait=true");
}

inline json get_cluster_policy(const std::string& name) {
  return parse_output(kubectl("get clusterpolicies.nvidia.com " + name + " -o json"));
}

// The object kubectl makes of a manifest file, without sending it anywhere.
inline json manifest_as_json(const std::string& file_arg) {
  return parse_output(kubectl("create --dry-run=client -o json -f " + file_arg));
}

// A ClusterPolicy manifest with the given spec (YAML, indented by 2) and name.
inline std::string cluster_policy_yaml(const std::string& name, const std::string& spec_lines) {
  return "apiVersion: nvidia.com/v1\nkind: ClusterPolicy\nmetadata:\n  name: " + name + "\nspec:\n" +
         spec_lines;
}

// Plain YAML (strings, maps, lists) to JSON; every scalar becomes a string.
inline json yaml_to_json(const YAML::Node& node) {
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
inline std::string chart_rules_text(const std::string& file) {
  return read_file(kRepo / kChartDir / "files" / file);
}

inline json chart_rules(const std::string& file) {
  YAML::Node rules = YAML::Load(chart_rules_text(file));
  REQUIRE(rules.IsSequence());
  return yaml_to_json(rules);
}

// `rules:` followed by the file's text indented by two, as the chart's templates render it.
inline std::string rules_block(const std::string& text) {
  std::string trimmed = text;
  while (!trimmed.empty() && (trimmed.back() == '\n' || trimmed.back() == ' ')) trimmed.pop_back();
  std::string out = "rules:";
  std::istringstream lines(trimmed);
  for (std::string line; std::getline(lines, line);) {
    out.append("\n");
    if (!line.empty()) out.append("  ").append(line);
  }
  return out + "\n";
}

// One rule as the API server reports it, reduced to the fields the chart sets.
inline json rule(std::vector<std::string> groups, std::vector<std::string> resources, std::vector<std::string> verbs,
          std::vector<std::string> names = {}) {
  json r = {{"apiGroups", groups}, {"resources", resources}, {"verbs", verbs}};
  if (!names.empty()) r["resourceNames"] = names;
  return r;
}

inline json normalized_rules(const json& rules) {
  json out = json::array();
  for (const auto& r : rules) {
    out.push_back(rule(r.value("apiGroups", std::vector<std::string>{}),
                       r.value("resources", std::vector<std::string>{}), r.value("verbs", std::vector<std::string>{}),
                       r.value("resourceNames", std::vector<std::string>{})));
  }
  return out;
}

// Expects the API server to refuse `manifest` with a message naming `field`.
inline void expect_rejected(const std::string& manifest, const std::string& field) {
  TempFile file(manifest);
  // --validate=false: the API server, not kubectl's client-side check, must refuse it.
  CommandResult result = kubectl("create --validate=false --dry-run=server -f " + file.arg());
  INFO(manifest << "\n--> " << result.output);
  CHECK(result.exit_code != 0);
  CHECK_THAT(result.output, Catch::Contains(field));
  CHECK_THAT(result.output, Catch::Contains("invalid"));
}

}  // namespace cpo::testing::deploy
