// parse_spec and resolve_image: defaults, the values users write, and the exact error
// for each kind of mistake.
#include "clusterpolicy/spec.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "apimachinery/yaml_json.hpp"

namespace cpo::clusterpolicy {
namespace {

using apimachinery::yaml_to_json;

using json = nlohmann::json;

ClusterPolicySpec parse_yaml(const std::string& spec_yaml) {
  return parse_spec(yaml_to_json(spec_yaml));
}

TEST_CASE("an empty or null spec takes every default", "[spec]") {
  for (const json& spec : {json::object(), json(nullptr)}) {
    const ClusterPolicySpec s = parse_spec(spec);
    CHECK(s.operator_.runtime_class == "nvidia");
    CHECK(s.operator_.labels.empty());
    CHECK(s.daemonsets.priority_class_name == "system-node-critical");
    CHECK(s.daemonsets.update_strategy == "RollingUpdate");
    CHECK(s.daemonsets.max_unavailable == json(1));
    CHECK_FALSE(s.daemonsets.tolerations.has_value());
    CHECK(s.device_plugin.enabled);
    CHECK(s.device_plugin.mps_root == "/run/nvidia/mps");
    CHECK(s.device_plugin.config_name.empty());
    CHECK_FALSE(s.device_plugin.args.has_value());
    CHECK_FALSE(s.device_plugin.resources.has_value());
    CHECK_FALSE(s.device_plugin.host_network);
    CHECK(s.gfd.enabled);
    CHECK(s.mig_strategy == "none");
  }
}

TEST_CASE("the fields a user writes are read as written", "[spec]") {
  const ClusterPolicySpec s = parse_yaml(R"(
operator:
  runtimeClass: nvidia-cdi
  labels: {team: gpu}
  annotations: {"example.com/owner": platform}
daemonsets:
  labels: {tier: node}
  annotations: {note: "x"}
  tolerations:
  - operator: Exists
  priorityClassName: gpu-critical
  updateStrategy: RollingUpdate
  rollingUpdate:
    maxUnavailable: "25%"
devicePlugin:
  enabled: true
  repository: nvcr.io/nvidia
  image: k8s-device-plugin
  version: v0.17.1
  imagePullPolicy: Always
  imagePullSecrets: [ngc-secret]
  resources:
    limits: {cpu: 1, memory: 512Mi}
  args: [--fail-on-init-error=false]
  env:
  - name: PASS_DEVICE_SPECS
    value: "false"
  - name: EMPTY
  config:
    name: mps-config-all
    default: mps-any
  mps:
    root: /var/lib/mps/
  hostNetwork: true
gfd:
  enabled: false
mig:
  strategy: mixed
driver:
  anything: [goes, here]
)");
  CHECK(s.operator_.runtime_class == "nvidia-cdi");
  CHECK(s.operator_.labels == std::map<std::string, std::string>{{"team", "gpu"}});
  CHECK(s.operator_.annotations.at("example.com/owner") == "platform");
  CHECK(s.daemonsets.labels.at("tier") == "node");
  CHECK(s.daemonsets.tolerations == json::parse(R"([{"operator": "Exists"}])"));
  CHECK(s.daemonsets.priority_class_name == "gpu-critical");
  CHECK(s.daemonsets.max_unavailable == json("25%"));
  CHECK(s.device_plugin.image.repository == "nvcr.io/nvidia");
  CHECK(s.device_plugin.image.image == "k8s-device-plugin");
  CHECK(s.device_plugin.image.version == "v0.17.1");
  CHECK(s.device_plugin.image_pull_policy == "Always");
  CHECK(s.device_plugin.image_pull_secrets == std::vector<std::string>{"ngc-secret"});
  CHECK(s.device_plugin.resources == json::parse(R"({"limits": {"cpu": 1, "memory": "512Mi"}})"));
  CHECK(s.device_plugin.args == std::vector<std::string>{"--fail-on-init-error=false"});
  CHECK(s.device_plugin.env ==
        std::vector<EnvVar>{{"PASS_DEVICE_SPECS", "false"}, {"EMPTY", ""}});
  CHECK(s.device_plugin.config_name == "mps-config-all");
  CHECK(s.device_plugin.config_default == "mps-any");
  CHECK(s.device_plugin.mps_root == "/var/lib/mps");  // trailing slash dropped
  CHECK(s.device_plugin.host_network);
  CHECK_FALSE(s.gfd.enabled);
  CHECK(s.mig_strategy == "mixed");
}

TEST_CASE("empty values mean unset, as NVIDIA's Helm chart writes them", "[spec]") {
  const ClusterPolicySpec s = parse_yaml(R"(
operator: {runtimeClass: ""}
daemonsets: {tolerations: [], priorityClassName: "", updateStrategy: "", annotations: {}}
devicePlugin: {args: [], env: [], imagePullSecrets: [], resources: {}, repository: "", image: "",
               version: "", imagePullPolicy: "", config: {name: "", default: ""}, mps: {root: ""}}
gfd: {enabled: null, resources: {limits: {}, requests: {}}}
mig: {strategy: ""}
)");
  CHECK(s.operator_.runtime_class == "nvidia");
  CHECK_FALSE(s.daemonsets.tolerations.has_value());
  CHECK(s.daemonsets.priority_class_name == "system-node-critical");
  CHECK(s.daemonsets.update_strategy == "RollingUpdate");
  CHECK_FALSE(s.device_plugin.args.has_value());
  CHECK_FALSE(s.device_plugin.resources.has_value());
  CHECK(s.device_plugin.image_pull_policy.empty());
  CHECK(s.device_plugin.mps_root == "/run/nvidia/mps");
  CHECK(s.gfd.enabled);
  CHECK_FALSE(s.gfd.resources.has_value());
  CHECK(s.mig_strategy == "none");
}

struct MaxUnavailableCase {
  json given;
  json parsed;
};

TEST_CASE("maxUnavailable: integers, digit strings and percentages", "[spec]") {
  const std::vector<MaxUnavailableCase> cases = {
      {1, 1}, {3, 3}, {"1", 1}, {"12", 12}, {"25%", "25%"}, {"100%", "100%"}, {"007%", "7%"},
  };
  for (const MaxUnavailableCase& c : cases) {
    DYNAMIC_SECTION(c.given.dump()) {
      const json spec = {{"daemonsets", {{"rollingUpdate", {{"maxUnavailable", c.given}}}}}};
      const json parsed = parse_spec(spec).daemonsets.max_unavailable;
      CHECK(parsed == c.parsed);
      CHECK(parsed.type() == c.parsed.type());
    }
  }
}

struct ErrorCase {
  std::string name;
  std::string spec_yaml;
  std::string message;  // the whole what()
};

// Each case fails with exactly its message, and the message is the path, ": ", the reason.
void check_spec_errors(const std::vector<ErrorCase>& cases) {
  for (const ErrorCase& c : cases) {
    DYNAMIC_SECTION(c.name) {
      try {
        (void)parse_yaml(c.spec_yaml);
        FAIL("no error for " << c.spec_yaml);
      } catch (const SpecError& e) {
        CHECK(std::string(e.what()) == c.message);
        CHECK(e.path + ": " + e.message == c.message);
      }
    }
  }
}

TEST_CASE("invalid specs fail with the path and a precise message", "[spec]") {
  const std::string partial =
      ": repository, image and version must be set together (or image alone as a full path)";
  const std::string max_unavailable =
      "spec.daemonsets.rollingUpdate.maxUnavailable: expected a positive integer or a percentage "
      "such as \"10%\", got ";
  const std::vector<ErrorCase> cases = {
      {"spec not an object", "[]", "spec: expected an object, got an array"},
      {"section not an object", "devicePlugin: on",
       "spec.devicePlugin: expected an object, got string \"on\""},
      {"repository and image without version",
       "devicePlugin: {repository: nvcr.io/nvidia, image: k8s-device-plugin}",
       "spec.devicePlugin" + partial},
      {"version alone", "gfd: {version: v0.17.1}", "spec.gfd" + partial},
      {"image and version without repository", "gfd: {image: gfd, version: v1}",
       "spec.gfd" + partial},
      {"enabled as a string", "devicePlugin: {enabled: \"yes\"}",
       "spec.devicePlugin.enabled: expected a boolean, got string \"yes\""},
      {"enabled as a YAML 1.1 word", "gfd: {enabled: yes}",
       "spec.gfd.enabled: expected a boolean, got string \"yes\""},
      {"hostNetwork as a number", "devicePlugin: {hostNetwork: 1}",
       "spec.devicePlugin.hostNetwork: expected a boolean, got number 1"},
      {"version as a number", "devicePlugin: {repository: r, image: i, version: 1.5}",
       "spec.devicePlugin.version: expected a string, got number 1.5"},
      {"env without name", "gfd: {env: [{value: x}]}", "spec.gfd.env[0].name: required"},
      {"env with empty name", "devicePlugin: {env: [{name: A, value: a}, {name: \"\"}]}",
       "spec.devicePlugin.env[1].name: required"},
      {"env value not a string", "devicePlugin: {env: [{name: A, value: 5}]}",
       "spec.devicePlugin.env[0].value: expected a string, got number 5"},
      {"env as a map", "devicePlugin: {env: {A: b}}",
       "spec.devicePlugin.env: expected a list of {name, value}, got an object"},
      {"env entry as a string", "gfd: {env: [A=b]}",
       "spec.gfd.env[0]: expected an object with name and value, got string \"A=b\""},
      {"args as a string", "devicePlugin: {args: --flag}",
       "spec.devicePlugin.args: expected a list of strings, got string \"--flag\""},
      {"pull secret as a number", "devicePlugin: {imagePullSecrets: [ngc, 1]}",
       "spec.devicePlugin.imagePullSecrets[1]: expected a string, got number 1"},
      {"unknown pull policy", "gfd: {imagePullPolicy: Sometimes}",
       "spec.gfd.imagePullPolicy: expected one of Always, IfNotPresent, Never, got string "
       "\"Sometimes\""},
      {"resource quantity as a list", "devicePlugin: {resources: {limits: {cpu: [1]}}}",
       "spec.devicePlugin.resources.limits.cpu: expected a quantity (a string or a number), got "
       "an array"},
      {"resources.requests as a list", "gfd: {resources: {requests: [cpu]}}",
       "spec.gfd.resources.requests: expected an object, got an array"},
      {"relative mps root", "devicePlugin: {mps: {root: run/mps}}",
       "spec.devicePlugin.mps.root: expected an absolute path, got string \"run/mps\""},
      {"config name as a number", "devicePlugin: {config: {name: 7}}",
       "spec.devicePlugin.config.name: expected a string, got number 7"},
      {"label value as a number", "daemonsets: {labels: {team: 1}}",
       "spec.daemonsets.labels.team: expected a string, got number 1"},
      {"label with a prefixed key", "operator: {labels: {\"example.com/x\": true}}",
       "spec.operator.labels[\"example.com/x\"]: expected a string, got boolean true"},
      {"annotations as a list", "daemonsets: {annotations: [a]}",
       "spec.daemonsets.annotations: expected a map of strings, got an array"},
      {"tolerations as a map", "daemonsets: {tolerations: {key: a}}",
       "spec.daemonsets.tolerations: expected a list of tolerations, got an object"},
      {"toleration as a string", "daemonsets: {tolerations: [nvidia.com/gpu]}",
       "spec.daemonsets.tolerations[0]: expected an object, got string \"nvidia.com/gpu\""},
      {"unknown update strategy", "daemonsets: {updateStrategy: Recreate}",
       "spec.daemonsets.updateStrategy: expected one of RollingUpdate, OnDelete, got string "
       "\"Recreate\""},
      {"maxUnavailable a word", "daemonsets: {rollingUpdate: {maxUnavailable: ten}}",
       max_unavailable + "string \"ten\""},
      {"maxUnavailable zero", "daemonsets: {rollingUpdate: {maxUnavailable: 0}}",
       max_unavailable + "number 0"},
      {"maxUnavailable negative", "daemonsets: {rollingUpdate: {maxUnavailable: -1}}",
       max_unavailable + "number -1"},
      {"maxUnavailable zero percent", "daemonsets: {rollingUpdate: {maxUnavailable: \"0%\"}}",
       max_unavailable + "string \"0%\""},
      {"maxUnavailable over 100%", "daemonsets: {rollingUpdate: {maxUnavailable: 150%}}",
       max_unavailable + "string \"150%\""},
      {"maxUnavailable a fraction", "daemonsets: {rollingUpdate: {maxUnavailable: 1.5}}",
       max_unavailable + "number 1.5"},
      {"maxUnavailable a boolean", "daemonsets: {rollingUpdate: {maxUnavailable: true}}",
       max_unavailable + "boolean true"},
      {"unknown mig strategy", "mig: {strategy: all}",
       "spec.mig.strategy: expected one of none, single, mixed, got string \"all\""},
      {"runtimeClass as a map", "operator: {runtimeClass: {name: nvidia}}",
       "spec.operator.runtimeClass: expected a string, got an object"},
  };
  check_spec_errors(cases);
}

// Found by fuzzing: a long non-ASCII value was cut inside a UTF-8 sequence, and the
// message then threw nlohmann's type_error.316 instead of a SpecError.
TEST_CASE("a wrong-typed long non-ASCII value gives a SpecError cut on a character boundary", "[spec]") {
  const std::string value = std::string(56, 'a') + "\u00e9" + "bcd";  // 61 bytes: the cut falls inside the é
  const std::string shown = "string \"" + std::string(56, 'a') + "...\"";
  const std::vector<ErrorCase> cases = {
      {"spec", "\"" + value + "\"", "spec: expected an object, got " + shown},
      {"devicePlugin", "devicePlugin: \"" + value + "\"", "spec.devicePlugin: expected an object, got " + shown},
      {"a label", "daemonsets: {labels: {team: [\"" + value + "\"]}}",
       "spec.daemonsets.labels.team: expected a string, got an array"},
      {"mps root", "devicePlugin: {mps: {root: \"" + value + "\"}}",
       "spec.devicePlugin.mps.root: expected an absolute path, got " + shown},
  };
  check_spec_errors(cases);
}

TEST_CASE("malformed UTF-8 in a value or a key still gives a SpecError naming the field", "[spec]") {
  // Not from YAML (the reader refuses malformed UTF-8), but a JSON value built elsewhere.
  json bad_value = {{"devicePlugin", std::string("ab\xff\xfe")}};
  CHECK_THROWS_WITH(parse_spec(bad_value), "spec.devicePlugin: expected an object, got string \"ab\xef\xbf\xbd\xef\xbf\xbd\"");
  json bad_key = {{"daemonsets", {{"labels", {{std::string("k\xff/x"), 1}}}}}};
  CHECK_THROWS_WITH(parse_spec(bad_key),
                    "spec.daemonsets.labels[\"k\xef\xbf\xbd/x\"]: expected a string, got number 1");
  json long_bad = {{"gfd", std::string(70, '\xff')}};
  try {
    (void)parse_spec(long_bad);
    FAIL("no error");
  } catch (const SpecError& e) {
    CHECK(e.path == "spec.gfd");
    CHECK_NOTHROW(json(std::string(e.what())).dump());  // the message is valid UTF-8
  }
}

TEST_CASE("a disabled component's image fields are not checked", "[spec]") {
  CHECK_NOTHROW(parse_yaml("gfd: {enabled: false, version: v1}"));
  CHECK_THROWS_AS(parse_yaml("gfd: {enabled: false, env: {}}"), SpecError);  // types still are
}

struct ImageCase {
  std::string name;
  ImageSpec image;
  std::string default_image;
  std::string expected;  // "" = SpecError expected
  std::string error = "";
};

TEST_CASE("resolve_image", "[spec]") {
  const std::string fallback = "nvcr.io/nvidia/k8s-device-plugin:v0.17.1";
  const std::vector<ImageCase> cases = {
      {"tag", {"nvcr.io/nvidia", "k8s-device-plugin", "v0.18.0"}, fallback,
       "nvcr.io/nvidia/k8s-device-plugin:v0.18.0"},
      {"digest",
       {"nvcr.io/nvidia", "k8s-device-plugin", "sha256:0123456789abcdef"},
       fallback,
       "nvcr.io/nvidia/k8s-device-plugin@sha256:0123456789abcdef"},
      {"repository with a trailing slash", {"registry.local/mirror/", "dp", "1.0"}, fallback,
       "registry.local/mirror/dp:1.0"},
      {"image alone is a full reference", {"", "registry.local/dp@sha256:abc", ""}, fallback,
       "registry.local/dp@sha256:abc"},
      {"nothing set: the operator default", {}, fallback, fallback},
      {"nothing set and no default", {}, "", "",
       "spec.gfd: no image set (repository, image and version) and the operator has no default "
       "image"},
      {"partial", {"nvcr.io/nvidia", "", "v1"}, fallback, "",
       "spec.gfd: repository, image and version must be set together (or image alone as a full "
       "path)"},
  };
  for (const ImageCase& c : cases) {
    DYNAMIC_SECTION(c.name) {
      if (c.error.empty()) {
        CHECK(resolve_image(c.image, c.default_image, "spec.gfd") == c.expected);
      } else {
        try {
          (void)resolve_image(c.image, c.default_image, "spec.gfd");
          FAIL("no error");
        } catch (const SpecError& e) {
          CHECK(std::string(e.what()) == c.error);
          CHECK(e.path == "spec.gfd");
        }
      }
    }
  }
}

}  // namespace
}  // namespace cpo::clusterpolicy
