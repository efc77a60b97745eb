// One device-plugin config document: each row is a YAML text and the exact problem
// lines (format_with_severity) the validator must report, in order.
#include "support.hpp"

#include <catch2/catch.hpp>

namespace cpo::deviceplugin::test {
namespace {

void run(const std::vector<DocumentCase>& cases) {
  for (const DocumentCase& c : cases) {
    DYNAMIC_SECTION(c.name) { CHECK(validate_lines(c) == c.expected); }
  }
}

const std::string kMpsAny = yaml(R"(
version: v1
sharing:
  mps:
    resources:
    - name: nvidia.com/gpu
      replicas: 4
)");

TEST_CASE("valid device-plugin configs report nothing", "[devicepluginconfig]") {
  run({
      {"user guide mps-any", kMpsAny, {}},
      {"empty document", "", {}},
      {"only a comment", "# nothing configured\n", {}},
      {"explicit empty document", "---\n", {}},
      {"version only, empty string", "version: \"\"\n", {}},
      {"time-slicing with short name", yaml(R"(
sharing:
  timeSlicing:
    renameByDefault: true
    failRequestsGreaterThanOne: true
    resources:
    - name: gpu
      replicas: 10
)"),
       {}},
      {"every known flag", yaml(R"(
version: v1
flags:
  migStrategy: single
  failOnInitError: true
  mpsRoot: /run/nvidia/mps
  nvidiaDriverRoot: /run/nvidia/driver
  nvidiaDevRoot: /
  gdsEnabled: false
  mofedEnabled: false
  gdrcopyEnabled: false
  useNodeFeatureAPI: false
  deviceDiscoveryStrategy: auto
  plugin:
    passDeviceSpecs: true
    deviceListStrategy: [envvar, cdi-annotations]
    deviceIDStrategy: uuid
    cdiAnnotationPrefix: cdi.k8s.io/
    nvidiaCTKPath: /usr/bin/nvidia-ctk
    containerDriverRoot: /driver-root
  gfd:
    oneshot: false
    noTimestamp: true
    sleepInterval: 1m30s
    outputFile: /etc/kubernetes/node-feature-discovery/features.d/gfd
    machineTypeFile: /sys/class/dmi/id/product_name
imex:
  channelIDs: [0]
  required: true
)"),
       {}, std::nullopt, Env::Bare},
      {"deviceListStrategy as one string", "flags:\n  plugin:\n    deviceListStrategy: volume-mounts\n", {}, std::nullopt,
       Env::Bare},
      {"MPS with an explicit failRequestsGreaterThanOne: false", yaml(R"(
sharing:
  mps:
    failRequestsGreaterThanOne: false
    resources:
    - name: nvidia.com/gpu
      replicas: 48
)"),
       {}},
      {"MIG resource time-sliced under mixed", yaml(R"(
flags:
  migStrategy: mixed
sharing:
  timeSlicing:
    resources:
    - name: nvidia.com/mig-1g.5gb
      replicas: 2
)"),
       {}},
  });
}

TEST_CASE("replica counts", "[devicepluginconfig]") {
  run({
      {"time-slicing replicas 1", yaml(R"(
sharing:
  timeSlicing:
    resources:
    - name: nvidia.com/gpu
      replicas: 1
)"),
       {"error: cfg: sharing.timeSlicing.resources[0].replicas: number of replicas must be >= 2 (line 5, column 17)"}},
      {"MPS replicas 64", yaml(R"(
sharing:
  mps:
    resources:
    - name: nvidia.com/gpu
      replicas: 64
)"),
       {"error: cfg: sharing.mps.resources[0].replicas: MPS supports at most 48 replicas per GPU, got 64 (line 5, column 17)"}},
      {"replicas as a quoted string", "sharing:\n  mps:\n    resources:\n    - {name: gpu, replicas: \"4\"}\n",
       {"error: cfg: sharing.mps.resources[0].replicas: must be an integer, got the string \"4\" (line 4, column 29)"}},
      {"replicas as a float", "sharing:\n  mps:\n    resources:\n    - {name: gpu, replicas: 2.5}\n",
       {"error: cfg: sharing.mps.resources[0].replicas: must be an integer, got 2.5 (line 4, column 29)"}},
      {"replicas out of range", "sharing:\n  timeSlicing:\n    resources:\n    - {name: gpu, replicas: 99999999999}\n",
       {"error: cfg: sharing.timeSlicing.resources[0].replicas: integer out of range: 99999999999 (line 4, column 29)"}},
      {"replicas missing", "sharing:\n  mps:\n    resources:\n    - name: gpu\n",
       {"error: cfg: sharing.mps.resources[0]: no replicas specified (line 4, column 7)"}},
  });
}

TEST_CASE("sharing blocks and resource names", "[devicepluginconfig]") {
  run({
      {"both strategies", yaml(R"(
sharing:
  timeSlicing:
    resources:
    - name: nvidia.com/gpu
      replicas: 4
  mps:
    resources:
    - name: nvidia.com/gpu
      replicas: 2
)"),
       {"error: cfg: sharing: timeSlicing and mps cannot both be set: the device plugin applies mps and silently drops timeSlicing (line 6, column 3)"}},
      {"the same resource twice", yaml(R"(
sharing:
  mps:
    resources:
    - name: nvidia.com/gpu
      replicas: 2
    - name: gpu
      replicas: 4
)"),
       {"error: cfg: sharing.mps.resources[1].name: resource \"nvidia.com/gpu\" is listed twice (first at sharing.mps.resources[0]): the device plugin applies one entry and drops the other (line 6, column 13)"}},
      {"block without resources", "sharing:\n  timeSlicing:\n    renameByDefault: true\n",
       {"error: cfg: sharing.timeSlicing: no resources specified (line 2, column 3)"}},
      {"empty MPS block: no MPS, as the plugin reads it", "sharing:\n  mps:\n",
       {"warning: cfg: sharing.mps: is empty (null): the consumers read it as no MPS (line 2, column 3)"}},
      {"empty time-slicing block", "sharing:\n  timeSlicing:\n",
       {"error: cfg: sharing.timeSlicing: no resources specified (line 2, column 3)"}},
      {"empty resources list", "sharing:\n  mps:\n    resources: []\n",
       {"error: cfg: sharing.mps.resources: no resources specified (line 3, column 16)"}},
      {"resource without name", "sharing:\n  timeSlicing:\n    resources:\n    - replicas: 2\n",
       {"error: cfg: sharing.timeSlicing.resources[0]: no resource name specified (line 4, column 7)"}},
      {"resource with an empty name", "sharing:\n  timeSlicing:\n    resources:\n    - {name: \"\", replicas: 2}\n",
       {"error: cfg: sharing.timeSlicing.resources[0].name: no resource name specified (line 4, column 14)"}},
      {"foreign prefix", "sharing:\n  timeSlicing:\n    resources:\n    - {name: example.com/gpu, replicas: 2}\n",
       {"error: cfg: sharing.timeSlicing.resources[0].name: resource name \"example.com/gpu\" must have the prefix nvidia.com/ or none (line 4, column 14)"}},
      {"upper-case name", "sharing:\n  timeSlicing:\n    resources:\n    - {name: GPU, replicas: 2}\n",
       {"error: cfg: sharing.timeSlicing.resources[0].name: invalid resource name \"nvidia.com/GPU\": \"GPU\" is not a DNS-1123 subdomain (lowercase letters, digits, '-' and '.', starting and ending with a letter or digit) (line 4, column 14)"}},
      {"name longer than 63 characters",
       "sharing:\n  timeSlicing:\n    resources:\n    - name: " + std::string(60, 'g') + "\n      replicas: 2\n",
       {"error: cfg: sharing.timeSlicing.resources[0].name: fully-qualified resource name \"nvidia.com/" +
        std::string(53, 'g') + "...\" must be 63 characters or less (it has 71) (line 4, column 13)"}},
      {"MPS of a MIG device", "sharing:\n  mps:\n    resources:\n    - {name: nvidia.com/mig-1g.5gb, replicas: 2}\n",
       {"error: cfg: sharing.mps.resources[0].name: MPS shares only nvidia.com/gpu, not \"nvidia.com/mig-1g.5gb\" (the MPS control daemon starts no daemon for it: the entry shares nothing) (line 4, column 14)"}},
      {"MPS with migStrategy mixed in flags", "flags:\n  migStrategy: mixed\nsharing:\n  mps:\n    resources:\n    - {name: gpu, replicas: 2}\n",
       {"error: cfg: sharing.mps: using --mig-strategy=mixed is not supported with MPS (mixed is set by flags.migStrategy) (line 4, column 3)"}},
      {"MPS with spec.mig.strategy mixed", kMpsAny,
       {"error: cfg: sharing.mps: using --mig-strategy=mixed is not supported with MPS (mixed is set by spec.mig.strategy) (line 3, column 3)"},
       "mixed"},
      {"spec.mig.strategy overrides flags.migStrategy", "flags:\n  migStrategy: mixed\nsharing:\n  mps:\n    resources:\n    - {name: gpu, replicas: 2}\n",
       {"warning: cfg: flags.migStrategy: not in effect in every consumer: the operand DaemonSets set MIG_STRATEGY=single (ClusterPolicy spec.mig.strategy), which beats the file (value in effect: \"single\") (line 2, column 16)"},
       "single"},
      {"imex channels", "imex:\n  channelIDs: [1, 2]\n",
       {"error: cfg: imex.channelIDs: must be [] or [0] (line 2, column 15)"}},
  });
}

TEST_CASE("settings the device plugin silently ignores are warnings", "[devicepluginconfig]") {
  run({
      {"rename and devices", yaml(R"(
sharing:
  timeSlicing:
    resources:
    - name: nvidia.com/gpu
      replicas: 2
      rename: gpu-shared
      devices: all
)"),
       {"warning: cfg: sharing.timeSlicing.resources[0].rename: ignored by the device plugin; set renameByDefault: true to advertise nvidia.com/gpu.shared instead (line 6, column 7)",
        "warning: cfg: sharing.timeSlicing.resources[0].devices: ignored by the device plugin, which always shares all devices (line 7, column 7)"}},
      {"a null device is GPU index 0", "sharing:\n  timeSlicing:\n    resources:\n    - {name: gpu, replicas: 2, devices: [null]}\n",
       {"warning: cfg: sharing.timeSlicing.resources[0].devices[0]: is empty (null): the consumers read it as GPU index 0 (line 4, column 32)",
        "warning: cfg: sharing.timeSlicing.resources[0].devices: ignored by the device plugin, which always shares all devices (line 4, column 32)"}},
      {"malformed devices", "sharing:\n  timeSlicing:\n    resources:\n    - {name: gpu, replicas: 2, devices: [0, \"1:2\", x]}\n",
       {"warning: cfg: sharing.timeSlicing.resources[0].devices: ignored by the device plugin, which always shares all devices (line 4, column 32)",
        "error: cfg: sharing.timeSlicing.resources[0].devices[2]: not a GPU index, MIG index (GPU:MIG) or GPU/MIG UUID: \"x\" (line 4, column 52)"}},
      {"a count of devices beyond 32 bits is a count (Go's int)",
       "sharing:\n  timeSlicing:\n    resources:\n    - {name: gpu, replicas: 2, devices: 99999999999}\n",
       {"warning: cfg: sharing.timeSlicing.resources[0].devices: ignored by the device plugin, which always shares all devices (line 4, column 32)"}},
      {"a negative count beyond 32 bits", "sharing:\n  timeSlicing:\n    resources:\n    - {name: gpu, replicas: 2, devices: -99999999999}\n",
       {"warning: cfg: sharing.timeSlicing.resources[0].devices: ignored by the device plugin, which always shares all devices (line 4, column 32)",
        "error: cfg: sharing.timeSlicing.resources[0].devices: a count of devices must be > 0, got -99999999999 (line 4, column 41)"}},
      {"top-level resources", "resources:\n  gpus:\n  - pattern: \"*A100*\"\n    name: gpu\n",
       {"warning: cfg: resources: ignored by the device plugin, which does not support customizing resource names (line 1, column 1)"}},
      {"a resource the plugin never advertises", "sharing:\n  timeSlicing:\n    resources:\n    - {name: nvidia.com/tpu, replicas: 2}\n",
       {"warning: cfg: sharing.timeSlicing.resources[0].name: the device plugin never advertises \"nvidia.com/tpu\" (only nvidia.com/gpu and nvidia.com/mig-<profile>); this entry shares nothing (line 4, column 14)"}},
      {"a MIG resource without mixed", "sharing:\n  timeSlicing:\n    resources:\n    - {name: mig-1g.5gb, replicas: 2}\n",
       {"warning: cfg: sharing.timeSlicing.resources[0].name: \"nvidia.com/mig-1g.5gb\" is advertised only with migStrategy mixed (effective: none); this entry shares nothing (line 4, column 14)"}},
  });
}

TEST_CASE("unknown keys", "[devicepluginconfig]") {
  run({
      {"renameByDefault under flags", "flags:\n  renameByDefault: true\n",
       {"error: cfg: flags.renameByDefault: unknown field \"renameByDefault\", which the consumers ignore (did you mean sharing.timeSlicing.renameByDefault or sharing.mps.renameByDefault?) (line 2, column 3)"}},
      {"wrong case where the plugin matches exactly", "sharing:\n  timeSlicing:\n    RenameByDefault: true\n    resources: [{name: gpu, replicas: 2}]\n",
       {"error: cfg: sharing.timeSlicing.RenameByDefault: unknown field \"RenameByDefault\", which the consumers ignore (did you mean renameByDefault?) (line 3, column 5)"}},
      {"key of another level, wrong case", "MigStrategy: single\n",
       {"error: cfg: MigStrategy: unknown field \"MigStrategy\", which the consumers ignore (did you mean flags.migStrategy?) (line 1, column 1)"}},
      {"typo", "sharing:\n  mps:\n    resources:\n    - {name: gpu, replica: 2}\n",
       {"error: cfg: sharing.mps.resources[0]: no replicas specified (line 4, column 7)",
        "error: cfg: sharing.mps.resources[0].replica: unknown field \"replica\", which the consumers ignore (did you mean replicas?) (line 4, column 19)"}},
      {"no hint", "colour: blue\n",
       {"error: cfg: colour: unknown field \"colour\", which the consumers ignore (line 1, column 1)"}},
      {"duplicate key", "version: v1\nversion: v1\n",
       {"error: cfg: version: duplicate field \"version\": the consumers read only the last one and drop the others (line 2, column 1)"}},
  });
}

TEST_CASE("value types and enums", "[devicepluginconfig]") {
  run({
      {"bad version", "version: v2\n", {"error: cfg: version: unknown version: v2 (line 1, column 10)"}},
      {"bad migStrategy", "flags:\n  migStrategy: both\n",
       {"error: cfg: flags.migStrategy: must be one of none, single, mixed, got \"both\" (line 2, column 16)"}},
      {"bad deviceIDStrategy", "flags:\n  plugin:\n    deviceIDStrategy: serial\n",
       {"error: cfg: flags.plugin.deviceIDStrategy: must be one of uuid, index, got \"serial\" (line 3, column 23)"},
       std::nullopt, Env::Bare},
      {"duplicate deviceListStrategy", "flags:\n  plugin:\n    deviceListStrategy: [envvar, envvar, nfs]\n",
       {"warning: cfg: flags.plugin.deviceListStrategy[1]: duplicate value \"envvar\" (harmless: the consumers apply it once) (line 3, column 34)",
        "error: cfg: flags.plugin.deviceListStrategy[2]: must be one of envvar, volume-mounts, cdi-annotations, cdi-cri, got \"nfs\" (line 3, column 42)"},
       std::nullopt, Env::Bare},
      {"empty deviceListStrategy", "flags:\n  plugin:\n    deviceListStrategy: []\n",
       {"error: cfg: flags.plugin.deviceListStrategy: must name at least one of envvar, volume-mounts, cdi-annotations, cdi-cri (with none the device plugin passes no devices to containers) (line 3, column 25)"},
       std::nullopt, Env::Bare},
      {"bad deviceDiscoveryStrategy", "flags:\n  deviceDiscoveryStrategy: vfio\n",
       {"error: cfg: flags.deviceDiscoveryStrategy: must be one of auto, nvml, tegra, got \"vfio\" (vfio is for GPU Feature Discovery only; the device plugin refuses it) (line 2, column 28)"}},
      {"deviceDiscoveryStrategy in another case", "flags:\n  deviceDiscoveryStrategy: AUTO\n",
       {"error: cfg: flags.deviceDiscoveryStrategy: must be one of auto, nvml, tegra, got \"AUTO\" (line 2, column 28)"}},
      {"boolean as a string", "flags:\n  gfd:\n    oneshot: \"true\"\n",
       {"error: cfg: flags.gfd.oneshot: must be true or false, got the string \"true\" (line 3, column 14)"}},
      {"number for a path", "flags:\n  nvidiaDriverRoot: 5\n",
       {"error: cfg: flags.nvidiaDriverRoot: must be a string, got 5 (quote it to use it as text) (line 2, column 21)"}},
      {"a duration beyond Go's range", "flags:\n  gfd:\n    sleepInterval: 2562048h\n",
       {"error: cfg: flags.gfd.sleepInterval: \"2562048h\" is beyond the longest Go duration (2562047h47m16.854775807s) (line 3, column 20)"}},
      {"bad duration", "flags:\n  gfd:\n    sleepInterval: 5 minutes\n",
       {"error: cfg: flags.gfd.sleepInterval: must be a Go duration such as 60s or 1m30s (or infinite), got \"5 minutes\" (line 3, column 20)"}},

      {"flags as a list", "flags: [a]\n", {"error: cfg: flags: must be a mapping, got a list (line 1, column 8)"}},
      {"resources as a mapping", "sharing:\n  mps:\n    resources: {name: gpu}\n",
       {"error: cfg: sharing.mps.resources: must be a list, got a mapping (line 3, column 16)"}},
      {"a tag the consumers cannot apply", "flags:\n  failOnInitError: !!int yes\n",
       {"error: cfg: flags.failOnInitError: the consumers' YAML parser refuses it: cannot decode \"yes\" as a !!int (line 2, column 20)"}},
      {"a string tag on a boolean", "flags:\n  failOnInitError: !!str true\n",
       {"error: cfg: flags.failOnInitError: must be true or false, got \"tag:yaml.org,2002:str\" \"true\" (line 2, column 20)"}},
  });
}

TEST_CASE("document structure", "[devicepluginconfig]") {
  run({
      {"syntax error", "version: v1\nsharing:\n  mps:\n    resources: [\n",
       {"error: cfg: invalid YAML: end of sequence flow not found (line 5, column 1)"}},
      {"bad indentation", "sharing:\n  mps:\n    resources:\n    - name: gpu\n     replicas: 2\n",
       {"error: cfg: invalid YAML: end of sequence not found (line 5, column 6)"}},
      {"two documents", "version: v1\n---\nversion: v1\n",
       {"error: cfg: holds more than one YAML document: the consumers read only the first and drop the others (line 2, column 1)"}},
      {"a second document after ...", "version: v1\n...\nversion: v2\n",
       {"error: cfg: holds more than one YAML document: the consumers read only the first and drop the others (line 3, column 1)"}},
      {"an indentation slip ends the document", "  flags: {}\nsharing:\n  mps: {resources: [{name: gpu, replicas: 2}]}\n",
       {"error: cfg: the YAML document ends before this text (check its indentation); the consumers read the document and ignore the rest: \"sharing:\" (line 2, column 1)"}},
      {"YAML 1.2 directive", "%YAML 1.2\n---\nversion: v1\n",
       {"error: cfg: the consumers' YAML 1.1 parser refuses \"%YAML 1.2\" (found incompatible YAML document); write %YAML 1.1 or nothing (line 1, column 1)"}},
      {"a directive without a document start", "%YAML 1.1\nversion: v1\n",
       {"error: cfg: invalid YAML: the directive on line 1 must be followed by a document start (---) (the consumers' parser: did not find expected <document start>) (line 2, column 1)"}},
      {"a directive and nothing else", "%YAML 1.1\n",
       {"error: cfg: invalid YAML: the directive on line 1 must be followed by a document start (---) (the consumers' parser: did not find expected <document start>) (line 1, column 1)"}},
      {"a quoted scalar never closed", "flags:\n  nvidiaDriverRoot: \"/run/nvidia\n\n",
       {"error: cfg: invalid YAML: the quoted scalar opened on line 2 is never closed (the consumers' parser: found unexpected end of stream) (line 4, column 1)"}},
      {"a NUL byte", std::string("version: v1\n\0\n", 14),
       {"error: cfg: invalid YAML: the control character U+0000 (the consumers' parser: control characters are not allowed) (line 2, column 1)"}},
      {"a C1 control character", "version: v1\nflags:\n  mpsRoot: /run/\xc2\x9f\n",
       {"error: cfg: invalid YAML: the control character U+009F (the consumers' parser: control characters are not allowed) (line 3, column 17)"}},
      {"malformed UTF-8", "version: v1\nflags:\n  mpsRoot: /run/\xff\n",
       {"error: cfg: invalid YAML: malformed UTF-8 (the consumers' parser refuses the file) (line 3, column 17)"}},
      {"a comma alone", ",\n", {"error: cfg: the YAML document ends before this text (check its indentation); the consumers read the document and ignore the rest: \",\" (line 1, column 1)"}},
      {"a comma after a flow list", "[a],\n", {"error: cfg: the YAML document ends before this text (check its indentation); the consumers read the document and ignore the rest: \",\" (line 1, column 4)"}},
      {"a comma after a quoted root", "'v1',\n", {"error: cfg: the YAML document ends before this text (check its indentation); the consumers read the document and ignore the rest: \",\" (line 1, column 5)"}},
      {"text the parser ends a document at", "- version: v1\n\"x\",\n",
       {"error: cfg: the YAML document ends before this text (check its indentation); the consumers read the document and ignore the rest: \"\\\"x\\\",\" (line 2, column 1)"}},
      {"a list", "- version: v1\n", {"error: cfg: a config must be a YAML mapping, got a list (line 1, column 1)"}},
      {"a scalar", "hello\n", {"error: cfg: a config must be a YAML mapping, got \"hello\" (line 1, column 1)"}},
  });
}

TEST_CASE("summary of what a config sets", "[devicepluginconfig]") {
  SECTION("MPS") {
    const DocumentResult result = validate_document("mps-any", kMpsAny, {});
    REQUIRE(result.ok());
    const ConfigSummary& s = result.summary;
    CHECK(s.strategy == SharingStrategy::Mps);
    CHECK(s.uses_mps);
    CHECK_FALSE(s.uses_time_slicing);
    CHECK(s.max_mps_replicas == 4);
    CHECK(s.max_time_slicing_replicas == 0);
    CHECK(s.fail_requests_greater_than_one);  // the MPS default
    CHECK_FALSE(s.rename_by_default);
    CHECK(s.mig_strategy == "none");
    CHECK(sharing_strategy_label(s.strategy) == "mps");
    CHECK(replicas_of(s, "nvidia.com/gpu") == 4);
    CHECK_FALSE(replicas_of(s, "nvidia.com/mig-1g.5gb"));
    REQUIRE(s.resources.size() == 1);
    CHECK(s.resources[0].path == "sharing.mps.resources[0]");
    CHECK(s.resources[0].line == 6);
    CHECK(s.resources[0].column == 17);
  }
  SECTION("time-slicing, renamed, MIG strategy from the ClusterPolicy") {
    ValidationContext context;
    context.mig_strategy_override = "single";
    const DocumentResult result = validate_document(
        "ts", "sharing:\n  timeSlicing:\n    renameByDefault: true\n    resources:\n    - {name: gpu, replicas: 8}\n",
        context);
    REQUIRE(result.ok());
    CHECK(result.summary.uses_time_slicing);
    CHECK(result.summary.max_time_slicing_replicas == 8);
    CHECK(result.summary.rename_by_default);
    CHECK_FALSE(result.summary.fail_requests_greater_than_one);
    CHECK(result.summary.mig_strategy == "single");
    CHECK(sharing_strategy_label(result.summary.strategy) == "time-slicing");
  }
  SECTION("MPS with failRequestsGreaterThanOne: false") {
    const DocumentResult result = validate_document(
        "m", "sharing:\n  mps:\n    failRequestsGreaterThanOne: false\n    resources: [{name: gpu, replicas: 2}]\n", {});
    REQUIRE(result.ok());
    CHECK_FALSE(result.summary.fail_requests_greater_than_one);
  }
  SECTION("both set: MPS applies, as upstream") {
    const DocumentResult result = validate_document(
        "b", "sharing:\n  timeSlicing: {resources: [{name: gpu, replicas: 3}]}\n  mps: {resources: [{name: gpu, replicas: 5}]}\n", {});
    CHECK_FALSE(result.ok());
    CHECK(result.summary.strategy == SharingStrategy::Mps);
    CHECK(result.summary.max_mps_replicas == 5);
  }
  SECTION("no sharing") {
    const DocumentResult result = validate_document("none", "", {});
    CHECK(result.ok());
    CHECK(sharing_strategy_label(result.summary.strategy) == "none");
    CHECK(result.summary.resources.empty());
  }
}

TEST_CASE("format", "[devicepluginconfig]") {
  CHECK(format(Problem{"k", "a.b", "msg", Severity::Error, 3, 4}) == "k: a.b: msg (line 3, column 4)");
  CHECK(format(Problem{"k", "", "msg", Severity::Error, 0, 0}) == "k: msg");
  CHECK(format(Problem{"", "", "msg", Severity::Warning, 2, 0}) == "msg (line 2)");
  CHECK(format_with_severity(Problem{"k", "p", "m", Severity::Warning, 0, 0}) == "warning: k: p: m");
}

}  // namespace
}  // namespace cpo::deviceplugin::test
