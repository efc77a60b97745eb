// render(): table-driven golden cases plus properties every render must have.
//
// Golden cases: each directory under tests/golden/render/ is one case.
//   clusterpolicy.yaml  the ClusterPolicy, a whole object as read from the API server
//   inputs.yaml         optional; what the controller knows about the cluster. Defaults:
//                         namespace: gpu-operator
//                         images: {devicePlugin: nvcr.io/nvidia/k8s-device-plugin:v0.20.0,
//                                  gfd: nvcr.io/nvidia/k8s-device-plugin:v0.20.0}
//                         runtimeClassExists: true
//                         config: unset, or {configMapName: ..., contentHash: ...}
//   expected.yaml       to_yaml_documents(render(...).objects), compared byte for byte
//   notes.txt           render(...).notes, one per line; absent when there are none
//
// After an intended change to the rendering, regenerate the expected files with
//   CPO_UPDATE_GOLDEN=1 ./unit_clusterpolicy "[golden]"
// and review the diff under tests/golden/ like code: it is the change users will see.
#include "clusterpolicy/render.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "clusterpolicy/spec.hpp"
#include "apimachinery/yaml_json.hpp"

#ifndef CPO_GOLDEN_DIR
#error "CPO_GOLDEN_DIR must name the tests/golden directory"
#endif

namespace cpo::clusterpolicy {
namespace {

using apimachinery::yaml_documents_to_json;
using apimachinery::yaml_to_json;

namespace fs = std::filesystem;
using json = nlohmann::json;

const fs::path kRenderGoldens = fs::path(CPO_GOLDEN_DIR) / "render";
constexpr const char* kDefaultImage = "nvcr.io/nvidia/k8s-device-plugin:v0.20.0";

// Every case that must exist; a new directory must be listed here too.
const std::vector<std::string> kCases = {
    "all-disabled",
    "config-named-but-not-supplied",
    "config-with-hash",
    "config-without-hash",
    "default",
    "device-plugin-disabled",
    "env-args-resources",
    "gfd-disabled",
    "gpu-operator-helm-example",
    "image-full-path",
    "images-tag-and-digest",
    "mig-mixed",
    "mps-root-override",
    "no-uid",
    "pod-template-labels-annotations",
    "runtime-class-absent",
    "runtime-class-custom",
    "tolerations-priority-rolling-percent",
    "update-strategy-on-delete",
};

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

void write_text(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

void expect_keys(const json& object, const std::set<std::string>& allowed, const std::string& where) {
  if (!object.is_object()) throw std::runtime_error(where + ": expected a map");
  for (auto it = object.begin(); it != object.end(); ++it) {
    if (allowed.count(it.key()) == 0) throw std::runtime_error(where + ": unknown key " + it.key());
  }
}

RenderInputs load_inputs(const fs::path& dir) {
  RenderInputs inputs;
  inputs.cluster_policy = yaml_to_json(read_text(dir / "clusterpolicy.yaml"));
  inputs.ns = "gpu-operator";
  inputs.images = {kDefaultImage, kDefaultImage};
  inputs.runtime_class_exists = true;
  if (!fs::exists(dir / "inputs.yaml")) return inputs;

  const json given = yaml_to_json(read_text(dir / "inputs.yaml"));
  expect_keys(given, {"namespace", "images", "runtimeClassExists", "config"}, "inputs.yaml");
  inputs.ns = given.value("namespace", inputs.ns);
  if (given.contains("images")) {
    expect_keys(given["images"], {"devicePlugin", "gfd"}, "inputs.yaml images");
    inputs.images.device_plugin = given["images"].value("devicePlugin", inputs.images.device_plugin);
    inputs.images.gfd = given["images"].value("gfd", inputs.images.gfd);
  }
  inputs.runtime_class_exists = given.value("runtimeClassExists", inputs.runtime_class_exists);
  if (given.contains("config")) {
    expect_keys(given["config"], {"configMapName", "contentHash"}, "inputs.yaml config");
    inputs.config = ConfigSource{given["config"].value("configMapName", ""),
                                 given["config"].value("contentHash", "")};
  }
  return inputs;
}

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// A unified-style line diff (- expected, + actual) with three lines of context.
std::string line_diff(const std::string& expected, const std::string& actual) {
  const std::vector<std::string> a = split_lines(expected);
  const std::vector<std::string> b = split_lines(actual);
  const std::size_t n = a.size();
  const std::size_t m = b.size();
  // Longest common subsequence lengths of the suffixes.
  std::vector<std::vector<int>> lcs(n + 1, std::vector<int>(m + 1, 0));
  for (std::size_t i = n; i-- > 0;) {
    for (std::size_t j = m; j-- > 0;) {
      lcs[i][j] = a[i] == b[j] ? lcs[i + 1][j + 1] + 1 : std::max(lcs[i + 1][j], lcs[i][j + 1]);
    }
  }
  struct Line {
    char op;
    std::string text;
    std::size_t expected_line;
  };
  std::vector<Line> script;
  std::size_t i = 0;
  std::size_t j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] == b[j]) {
      script.push_back({' ', a[i], i + 1});
      ++i, ++j;
    } else if (i < n && (j == m || lcs[i + 1][j] >= lcs[i][j + 1])) {
      script.push_back({'-', a[i], i + 1});
      ++i;
    } else {
      script.push_back({'+', b[j], i + 1});
      ++j;
    }
  }
  std::vector<bool> shown(script.size(), false);
  for (std::size_t k = 0; k < script.size(); ++k) {
    if (script[k].op == ' ') continue;
    for (std::size_t c = (k >= 3 ? k - 3 : 0); c < std::min(script.size(), k + 4); ++c) shown[c] = true;
  }
  std::string out;
  bool in_hunk = false;
  for (std::size_t k = 0; k < script.size(); ++k) {
    if (!shown[k]) {
      in_hunk = false;
      continue;
    }
    if (!in_hunk) out += "@@ expected line " + std::to_string(script[k].expected_line) + " @@\n";
    in_hunk = true;
    out += script[k].op;
    out += script[k].text;
    out += '\n';
  }
  return out;
}

// Compares `actual` with the file, or rewrites the file under CPO_UPDATE_GOLDEN=1.
// An optional file that is absent reads as empty, and is removed again when empty.
void check_golden(const fs::path& path, const std::string& actual, bool optional) {
  const char* update = std::getenv("CPO_UPDATE_GOLDEN");
  if (update != nullptr && std::string(update) == "1") {
    if (optional && actual.empty()) {
      fs::remove(path);
    } else {
      write_text(path, actual);
    }
    WARN("updated " << path.string());
    return;
  }
  if (!fs::exists(path) && !optional) {
    FAIL(path.string() << " is missing: run with CPO_UPDATE_GOLDEN=1 to create it");
  }
  const std::string expected = fs::exists(path) ? read_text(path) : "";
  if (expected != actual) {
    FAIL(path.string() << " differs (- expected, + actual):\n"
                       << line_diff(expected, actual)
                       << "If the change is intended, rerun with CPO_UPDATE_GOLDEN=1 and review "
                          "the diff.");
  }
}

std::string joined_notes(const Rendered& rendered) {
  std::string out;
  for (const std::string& note : rendered.notes) out += note + "\n";
  return out;
}

TEST_CASE("render goldens", "[render][golden]") {
  std::vector<std::string> found;
  for (const fs::directory_entry& entry : fs::directory_iterator(kRenderGoldens)) {
    if (entry.is_directory()) found.push_back(entry.path().filename().string());
  }
  std::sort(found.begin(), found.end());
  CHECK(found == kCases);

  for (const std::string& name : found) {
    DYNAMIC_SECTION(name) {
      const fs::path dir = kRenderGoldens / name;
      const RenderInputs inputs = load_inputs(dir);
      const Rendered rendered = render(inputs);
      const std::string yaml = to_yaml_documents(rendered.objects);
      check_golden(dir / "expected.yaml", yaml, false);
      check_golden(dir / "notes.txt", joined_notes(rendered), true);
      // What the goldens show is exactly what gets applied.
      CHECK(yaml_documents_to_json(yaml) == rendered.objects);
    }
  }
}

// ---- properties -------------------------------------------------------------------------

json cluster_policy(const std::string& spec_yaml = "{}") {
  return {{"apiVersion", "nvidia.com/v1"},
          {"kind", "ClusterPolicy"},
          {"metadata", {{"name", "cluster-policy"}, {"uid", "uid-1"}}},
          {"spec", yaml_to_json(spec_yaml)}};
}

RenderInputs inputs_for(const std::string& spec_yaml = "{}") {
  RenderInputs inputs;
  inputs.cluster_policy = cluster_policy(spec_yaml);
  inputs.ns = "gpu-operator";
  inputs.images = {kDefaultImage, kDefaultImage};
  inputs.runtime_class_exists = true;
  inputs.config = ConfigSource{"mps-config-all", "abc123"};
  return inputs;
}

const json& container(const json& daemonset, const std::string& name) {
  for (const char* list : {"containers", "initContainers"}) {
    const json& pod = daemonset["spec"]["template"]["spec"];
    if (!pod.contains(list)) continue;
    for (const json& c : pod[list]) {
      if (c["name"] == name) return c;
    }
  }
  throw std::runtime_error("no container " + name);
}

std::vector<std::string> env_names(const json& c) {
  std::vector<std::string> names;
  for (const json& e : c["env"]) names.push_back(e["name"].get<std::string>());
  return names;
}

TEST_CASE("every object is owned by the ClusterPolicy and labelled as ours", "[render]") {
  for (const json& object : render(inputs_for()).objects) {
    const json& metadata = object["metadata"];
    DYNAMIC_SECTION(object["kind"].get<std::string>() << " " << metadata["name"].get<std::string>()) {
      CHECK(metadata["labels"][kManagedByLabel] == "clusterpolicy-operator");
      CHECK(metadata["labels"][kPartOfLabel] == "clusterpolicy-operator");
      CHECK(metadata["ownerReferences"] == json::parse(R"([{
        "apiVersion": "nvidia.com/v1", "kind": "ClusterPolicy", "name": "cluster-policy",
        "uid": "uid-1", "controller": true, "blockOwnerDeletion": true}])"));
      const bool cluster_scoped =
          object["kind"] == "ClusterRole" || object["kind"] == "ClusterRoleBinding";
      CHECK(metadata.contains("namespace") == !cluster_scoped);
      CHECK_FALSE(object.contains("status"));
    }
  }
}

TEST_CASE("objects come in apply order", "[render]") {
  std::vector<std::string> order;
  for (const json& object : render(inputs_for()).objects) {
    order.push_back(object["kind"].get<std::string>() + "/" +
                    object["metadata"]["name"].get<std::string>());
  }
  CHECK(order == std::vector<std::string>{
                     "ServiceAccount/nvidia-device-plugin",
                     "ServiceAccount/nvidia-gpu-feature-discovery",
                     "ClusterRole/nvidia-device-plugin-config-manager",
                     "ClusterRoleBinding/nvidia-device-plugin-config-manager",
                     "DaemonSet/nvidia-device-plugin-daemonset",
                     "DaemonSet/nvidia-device-plugin-mps-control-daemon",
                     "DaemonSet/gpu-feature-discovery",
                 });
}

TEST_CASE("pods pass the API server's pod-spec rules render could break", "[render]") {
  for (const json& object : render(inputs_for()).objects) {
    if (object["kind"] != "DaemonSet") continue;
    const json& pod = object["spec"]["template"]["spec"];
    DYNAMIC_SECTION(object["metadata"]["name"].get<std::string>()) {
      // "ShareProcessNamespace and HostPID cannot both be enabled"
      CHECK_FALSE((pod.value("hostPID", false) && pod.value("shareProcessNamespace", false)));
      // A config-manager sidecar can see the process it signals.
      CHECK((pod.value("hostPID", false) || pod.value("shareProcessNamespace", false)));
      std::set<std::string> containers;
      std::set<std::string> volumes;
      for (const char* list : {"initContainers", "containers"}) {
        for (const json& c : pod.value(list, json::array())) {
          CHECK(containers.insert(c["name"].get<std::string>()).second);
          std::set<std::string> env;
          for (const json& e : c.value("env", json::array())) {
            CHECK(env.insert(e["name"].get<std::string>()).second);
          }
          std::set<std::string> paths;
          for (const json& m : c.value("volumeMounts", json::array())) {
            CHECK(paths.insert(m["mountPath"].get<std::string>()).second);
          }
        }
      }
      for (const json& v : pod["volumes"]) CHECK(volumes.insert(v["name"].get<std::string>()).second);
      for (const char* list : {"initContainers", "containers"}) {
        for (const json& c : pod.value(list, json::array())) {
          for (const json& m : c.value("volumeMounts", json::array())) {
            CHECK(volumes.count(m["name"].get<std::string>()) == 1);
          }
        }
      }
      const json& spec = object["spec"];
      CHECK(spec["selector"]["matchLabels"]["app"] == spec["template"]["metadata"]["labels"]["app"]);
    }
  }
}

TEST_CASE("render is deterministic", "[render]") {
  const RenderInputs inputs =
      inputs_for("devicePlugin: {env: [{name: B, value: b}, {name: A, value: a}]}");
  CHECK(to_yaml_documents(render(inputs).objects) == to_yaml_documents(render(inputs).objects));
}

TEST_CASE("a new config hash changes only the pod template annotation", "[render]") {
  RenderInputs first = inputs_for();
  RenderInputs second = inputs_for();
  second.config->content_hash = "def456";
  const Rendered a = render(first);
  const Rendered b = render(second);
  REQUIRE(a.objects.size() == b.objects.size());
  for (std::size_t i = 0; i < a.objects.size(); ++i) {
    json left = a.objects[i];
    json right = b.objects[i];
    if (left["kind"] == "DaemonSet") {
      CHECK(left["spec"]["template"]["metadata"]["annotations"][kConfigHashAnnotation] == "abc123");
      CHECK(right["spec"]["template"]["metadata"]["annotations"][kConfigHashAnnotation] == "def456");
      left["spec"]["template"]["metadata"].erase("annotations");
      right["spec"]["template"]["metadata"].erase("annotations");
    }
    CHECK(left == right);
  }
}

TEST_CASE("the user's env overrides in place, keeps order, and appends new names", "[render]") {
  const Rendered rendered = render(inputs_for(R"(
devicePlugin:
  env:
  - {name: DEVICE_LIST_STRATEGY, value: volume-mounts}
  - {name: EXTRA, value: "1"}
  - {name: CONFIG_FILE, value: /etc/custom.yaml}
gfd:
  env:
  - {name: NODE_NAME, value: fixed}
)"));
  const json& plugin = container(rendered.objects[4], "nvidia-device-plugin");
  CHECK(env_names(plugin) == std::vector<std::string>{
                                 "PASS_DEVICE_SPECS", "FAIL_ON_INIT_ERROR", "DEVICE_LIST_STRATEGY",
                                 "DEVICE_ID_STRATEGY", "NVIDIA_VISIBLE_DEVICES",
                                 "NVIDIA_DRIVER_CAPABILITIES", "MPS_ROOT", "MIG_STRATEGY",
                                 "CONFIG_FILE", "EXTRA"});
  CHECK(plugin["env"][2] == json{{"name", "DEVICE_LIST_STRATEGY"}, {"value", "volume-mounts"}});
  CHECK(plugin["env"][8] == json{{"name", "CONFIG_FILE"}, {"value", "/etc/custom.yaml"}});
  // A fieldRef entry overridden by a literal loses its valueFrom.
  const json& gfd = container(rendered.objects[6], "gpu-feature-discovery");
  CHECK(gfd["env"][1] == json{{"name", "NODE_NAME"}, {"value", "fixed"}});
  // The sidecars keep the operator's env.
  CHECK(container(rendered.objects[6], "config-manager")["env"][2]["valueFrom"].is_object());
}

TEST_CASE("an invalid spec or a missing image fails the render", "[render]") {
  CHECK_THROWS_WITH(render(inputs_for("devicePlugin: {repository: r, image: i}")),
                    "spec.devicePlugin: repository, image and version must be set together (or "
                    "image alone as a full path)");
  RenderInputs no_default = inputs_for();
  no_default.images.gfd = "";
  CHECK_THROWS_AS(render(no_default), SpecError);
  no_default.cluster_policy["spec"] = {{"gfd", {{"enabled", false}}}};
  CHECK_NOTHROW(render(no_default));  // a disabled operand needs no image
}

TEST_CASE("without a uid the objects carry no ownerReferences and a note says why", "[render]") {
  RenderInputs inputs = inputs_for();
  inputs.cluster_policy["metadata"].erase("uid");
  const Rendered rendered = render(inputs);
  for (const json& object : rendered.objects) {
    CHECK_FALSE(object["metadata"].contains("ownerReferences"));
  }
  CHECK(rendered.notes.front() == "ownerReferences omitted: the ClusterPolicy has no metadata.uid");
}

TEST_CASE("renderable_objects names every object render can produce", "[render]") {
  const std::vector<ObjectKey> all = renderable_objects("gpu-operator");
  for (const json& object : render(inputs_for()).objects) {
    const ObjectKey key{object["apiVersion"].get<std::string>(), object["kind"].get<std::string>(),
                        object["metadata"].value("namespace", ""),
                        object["metadata"]["name"].get<std::string>()};
    CHECK(std::find(all.begin(), all.end(), key) != all.end());
  }
  CHECK(all.size() == render(inputs_for()).objects.size());
}

TEST_CASE("to_yaml_documents separates documents with ---", "[render]") {
  CHECK(to_yaml_documents({}).empty());
  CHECK(to_yaml_documents({json{{"a", 1}}, json{{"b", "true"}}}) == "---\na: 1\n---\nb: \"true\"\n");
}

}  // namespace
}  // namespace cpo::clusterpolicy
