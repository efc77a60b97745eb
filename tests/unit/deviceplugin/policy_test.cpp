// The policy of issue 10, row by row: what the deployed device-plugin release accepts
// and applies is accepted (unusual forms with a warning), what makes a consumer fail
// is refused, the rules follow the release, and a flag that an operand variable beats
// is named with that variable. Every row also runs through NVIDIA's own code in the
// differential test (tests/oracle), which checks the verdicts.
#include "support.hpp"

#include <catch2/catch.hpp>

namespace cpo::deviceplugin::test {
namespace {

void run(const std::vector<DocumentCase>& cases) {
  for (const DocumentCase& c : cases) {
    DYNAMIC_SECTION(c.name) { CHECK(validate_lines(c) == c.expected); }
  }
}

TEST_CASE("what the deployed plugin accepts and applies is accepted, unusual forms with a warning", "[devicepluginconfig]") {
  run({
      {"YAML 1.1 booleans", "flags:\n  failOnInitError: yes\n  plugin:\n    passDeviceSpecs: Off\n",
       {"warning: cfg: flags.failOnInitError: yes is a YAML 1.1 boolean the consumers read as true (line 2, column 20)",
        "warning: cfg: flags.plugin.passDeviceSpecs: Off is a YAML 1.1 boolean the consumers read as false (line 4, column 22)",
        "warning: cfg: flags.plugin.passDeviceSpecs: not in effect in the device plugin: its DaemonSet sets PASS_DEVICE_SPECS=true, which beats the file (value in effect: \"true\") (line 4, column 22)"}},
      {"null means the default", "flags:\n  migStrategy:\n  nvidiaDriverRoot: null\n  failOnInitError: ~\n",
       {"warning: cfg: flags.migStrategy: is empty (null): the consumers use the default (line 2, column 3)",
        "warning: cfg: flags.nvidiaDriverRoot: is empty (null): the consumers use the default (line 3, column 3)",
        "warning: cfg: flags.failOnInitError: is empty (null): the consumers use the default (line 4, column 3)"}},
      {"null MPS next to time-slicing", "sharing:\n  mps: null\n  timeSlicing:\n    resources: [{name: gpu, replicas: 2}]\n",
       {"warning: cfg: sharing.mps: is empty (null): the consumers read it as no MPS (line 2, column 3)"}},
      {"octal, hex and float replicas", "sharing:\n  timeSlicing:\n    resources:\n    - {name: gpu, replicas: 010}\n    - {name: mig-1g.5gb, replicas: 4.0}\n    - {name: mig-2g.10gb, replicas: 0x10}\n",
       {"warning: cfg: sharing.timeSlicing.resources[0].replicas: 010 is read by the consumers as 8 (YAML 1.1: a leading 0 makes it octal) (line 4, column 29)",
        "warning: cfg: sharing.timeSlicing.resources[1].replicas: 4.0 is read by the consumers as 4 (line 5, column 36)",
        "warning: cfg: sharing.timeSlicing.resources[2].replicas: 0x10 is read by the consumers as 16 (line 6, column 37)"}, "mixed"},
      {"keys in another case where the plugin folds case", "Sharing:\n  TIMESLICING:\n    resources: [{name: gpu, replicas: 2}]\nflags:\n  MIGSTRATEGY: none\n",
       {"warning: cfg: Sharing: read as sharing (the consumers match this key case-insensitively); write sharing (line 1, column 1)",
        "warning: cfg: Sharing.TIMESLICING: read as timeSlicing (the consumers match this key case-insensitively); write timeSlicing (line 2, column 3)",
        "warning: cfg: flags.MIGSTRATEGY: read as migStrategy (the consumers match this key case-insensitively); write migStrategy (line 5, column 3)"}},
      {"a trailing separator", "version: v1\n---\n",
       {}},
      {"an explicit int tag", "sharing:\n  timeSlicing:\n    resources: [{name: gpu, replicas: !!int \"4\"}]\n",
       {"warning: cfg: sharing.timeSlicing.resources[0].replicas: \"4\" has the explicit tag !!int (line 3, column 39)"}},
      {"anchors, aliases and a merge key", "sharing:\n  timeSlicing:\n    resources:\n    - &item {name: gpu, replicas: 2}\n    - <<: *item\n      name: mig-1g.5gb\n",
       {}, "mixed"},
      {"a plain value over two lines", "flags:\n  nvidiaDriverRoot: /run/nvidia\n    /driver\n",
       {}},
      {"a quoted value over two lines", "flags:\n  nvidiaDriverRoot: \"/run/nvidia\n    /driver\"\n",
       {}},
      {"a bare-number and a non-positive duration", "flags:\n  gfd:\n    sleepInterval: 60\n",
       {"warning: cfg: flags.gfd.sleepInterval: 60 is a bare number, which the consumers read as nanoseconds; write a unit, e.g. 60s (line 3, column 20)"}},
      {"a negative duration", "flags:\n  gfd:\n    sleepInterval: -5s\n",
       {"warning: cfg: flags.gfd.sleepInterval: \"-5s\" is not positive: GFD relabels without pause (line 3, column 20)"}},
  });
}

TEST_CASE("what makes a consumer fail is refused", "[devicepluginconfig]") {
  run({
      {"an invalid top-level resources entry", "resources:\n  gpus:\n  - pattern: \"*\"\n    name: Bad_Name\n  - name: gpu\n  mig:\n  - pattern: 1g.5gb\n  - null\n",
       {"warning: cfg: resources: ignored by the device plugin, which does not support customizing resource names (line 1, column 1)",
        "error: cfg: resources.gpus[0].name: invalid resource name \"nvidia.com/Bad_Name\": \"Bad_Name\" is not a DNS-1123 subdomain (lowercase letters, digits, '-' and '.', starting and ending with a letter or digit) (line 4, column 11)",
        "error: cfg: resources.gpus[1]: resources must have a 'pattern' field set (line 5, column 5)",
        "error: cfg: resources.mig[1]: resources must have a 'pattern' field set (the entry is empty) (line 6, column 3)",
        "error: cfg: resources.mig[0]: resources must have a 'name' field set (line 7, column 5)"}},
      {"a null sharing resource", "sharing:\n  timeSlicing:\n    resources: [null]\n",
       {"error: cfg: sharing.timeSlicing.resources[0]: no resource name specified (the entry is empty) (line 3, column 5)"}},
      {"MPS without an MPS root, as NVIDIA ships the plugin", "sharing:\n  mps:\n    resources: [{name: gpu, replicas: 2}]\n",
       {"error: cfg: sharing.mps: using MPS requires --mps-root to be specified: set flags.mpsRoot (the operator's DaemonSet sets MPS_ROOT) (line 2, column 3)"}, std::nullopt, Env::Bare},
      {"octal 061 is 49: above the MPS limit", "flags:\n  mpsRoot: /m\nsharing:\n  mps:\n    resources: [{name: gpu, replicas: 061}]\n",
       {"warning: cfg: flags.mpsRoot: not in effect in the device plugin: its DaemonSet sets MPS_ROOT=/run/nvidia/mps, which beats the file (value in effect: \"/run/nvidia/mps\") (line 2, column 12)",
        "warning: cfg: sharing.mps.resources[0].replicas: 061 is read by the consumers as 49 (YAML 1.1: a leading 0 makes it octal) (line 5, column 39)",
        "error: cfg: sharing.mps.resources[0].replicas: MPS supports at most 48 replicas per GPU, got 49 (line 5, column 39)"}},
      {"the same key twice in another case", "flags:\n  migStrategy: none\n  MIGSTRATEGY: single\n",
       {"error: cfg: flags.MIGSTRATEGY: duplicate field \"MIGSTRATEGY\": the consumers read it and \"migStrategy\" as one key (case-insensitively) and drop one of them (line 3, column 3)"}},
      {"an infinite value", "flags:\n  gfd:\n    sleepInterval: .inf\n",
       {"error: cfg: flags.gfd.sleepInterval: .inf cannot be converted to JSON by the consumers (json: unsupported value) (line 3, column 20)"}},
      {"a merge key on a scalar", "flags:\n  <<: envvar\n",
       {"error: cfg: flags: the consumers' YAML parser refuses a << merge key whose value is not a mapping or a list of mappings (line 2, column 3)"}},
      {"an alias to the node that contains it", "a: &a\n  b: *a\n",
       {"error: cfg: invalid YAML: an alias refers to the node that contains it (line 2, column 6)"}},
      {"a document end marker alone", "...\n",
       {"error: cfg: invalid YAML: a document end marker (...) with no document before it (the consumers' parser: did not find expected node content) (line 1, column 1)"}},
  });
}

TEST_CASE("the rules follow the deployed plugin release", "[devicepluginconfig]") {
  run({
      {"sharedDevicesAllocationPolicy from v0.20", "flags:\n  plugin:\n    sharedDevicesAllocationPolicy: packed\n",
       {}},
      {"sharedDevicesAllocationPolicy, a bad value", "flags:\n  plugin:\n    sharedDevicesAllocationPolicy: spread\n",
       {"error: cfg: flags.plugin.sharedDevicesAllocationPolicy: must be one of distributed, packed, got \"spread\" (line 3, column 36)"}},
      {"sharedDevicesAllocationPolicy before v0.20", "flags:\n  plugin:\n    sharedDevicesAllocationPolicy: packed\n",
       {"error: cfg: flags.plugin.sharedDevicesAllocationPolicy: \"sharedDevicesAllocationPolicy\" is supported from v0.20; device plugin v0.19 ignores it (line 3, column 5)"}, std::nullopt, Env::Operator, PluginVersion{0, 19, 1}},
      {"sleepInterval infinite from v0.19", "flags:\n  gfd:\n    sleepInterval: infinite\n",
       {}, std::nullopt, Env::Operator, PluginVersion{0, 19, 0}},
      {"sleepInterval infinite before v0.19", "flags:\n  gfd:\n    sleepInterval: infinite\n",
       {"error: cfg: flags.gfd.sleepInterval: \"infinite\" is accepted from v0.19; device plugin v0.18 refuses it (line 3, column 20)"}, std::nullopt, Env::Operator, PluginVersion{0, 18, 2}},
      {"gdrcopyEnabled before v0.18", "flags:\n  gdrcopyEnabled: true\n",
       {"error: cfg: flags.gdrcopyEnabled: \"gdrcopyEnabled\" is supported from v0.18; device plugin v0.17 ignores it (line 2, column 3)"}, std::nullopt, Env::Operator, PluginVersion{0, 17, 4}},
      {"MPS failRequestsGreaterThanOne false before v0.20", "sharing:\n  mps:\n    failRequestsGreaterThanOne: false\n    resources: [{name: gpu, replicas: 2}]\n",
       {"warning: cfg: sharing.mps.failRequestsGreaterThanOne: false is honoured from v0.20; device plugin v0.19 always fails MPS requests for more than one replica (line 3, column 33)"}, std::nullopt, Env::Operator, PluginVersion{0, 19, 1}},
      {"a newer key, warned about on request", "flags:\n  plugin:\n    sharedDevicesAllocationPolicy: packed\n  colour: blue\n",
       {"warning: cfg: flags.plugin.sharedDevicesAllocationPolicy: \"sharedDevicesAllocationPolicy\" is supported from v0.20; device plugin v0.19 ignores it (line 3, column 5)",
        "warning: cfg: flags.colour: unknown field \"colour\", which the consumers ignore (line 4, column 3)"}, std::nullopt, Env::Operator, PluginVersion{0, 19, 1}, UnknownKeys::Warn},
      {"a command-line-only key", "flags:\n  plugin:\n    kubeletSocket: /var/lib/kubelet/device-plugins/kubelet.sock\n",
       {"error: cfg: flags.plugin.kubeletSocket: the device plugin takes it on its command line only; in the config file it is ignored (--kubelet-socket) (line 3, column 5)"}},
  });
}

TEST_CASE("a flag that the DaemonSet's variable beats is named with the variable", "[devicepluginconfig]") {
  run({
      {"a flag the DaemonSet's variable beats", "flags:\n  failOnInitError: false\n  plugin:\n    passDeviceSpecs: false\n    deviceIDStrategy: index\n",
       {"warning: cfg: flags.failOnInitError: not in effect in the device plugin: its DaemonSet sets FAIL_ON_INIT_ERROR=true, which beats the file (value in effect: \"true\") (line 2, column 20)",
        "warning: cfg: flags.plugin.passDeviceSpecs: not in effect in the device plugin: its DaemonSet sets PASS_DEVICE_SPECS=true, which beats the file (value in effect: \"true\") (line 4, column 22)",
        "warning: cfg: flags.plugin.deviceIDStrategy: not in effect in the device plugin: its DaemonSet sets DEVICE_ID_STRATEGY=uuid, which beats the file (value in effect: \"uuid\") (line 5, column 23)"}},
      {"a bad value that the variable makes dead", "flags:\n  plugin:\n    deviceListStrategy: [bogus]\n",
       {"warning: cfg: flags.plugin.deviceListStrategy: not in effect in the device plugin: its DaemonSet sets DEVICE_LIST_STRATEGY=envvar, which beats the file (value in effect: \"envvar\"); without it the file's value would be refused: must be one of envvar, volume-mounts, cdi-annotations, cdi-cri, got \"bogus\" (line 3, column 25)"}},
      {"the same value as the variable", "flags:\n  plugin:\n    deviceIDStrategy: uuid\n    deviceListStrategy: [envvar]\n",
       {}},
      {"MPS_ROOT beats flags.mpsRoot", "flags:\n  mpsRoot: /other\n",
       {"warning: cfg: flags.mpsRoot: not in effect in the device plugin: its DaemonSet sets MPS_ROOT=/run/nvidia/mps, which beats the file (value in effect: \"/run/nvidia/mps\") (line 2, column 12)"}},
      {"spec.mig.strategy beats a bad migStrategy", "flags:\n  migStrategy: bogus\n",
       {"warning: cfg: flags.migStrategy: not in effect in every consumer: the operand DaemonSets set MIG_STRATEGY=single (ClusterPolicy spec.mig.strategy), which beats the file (value in effect: \"single\"); without it the file's value would be refused: must be one of none, single, mixed, got \"bogus\" (line 2, column 16)"}, "single"},
      {"a type error stays an error", "flags:\n  plugin:\n    deviceIDStrategy: 5\n",
       {"error: cfg: flags.plugin.deviceIDStrategy: must be a string (one of uuid, index), got 5 (line 3, column 23)",
        "warning: cfg: flags.plugin.deviceIDStrategy: not in effect in the device plugin: its DaemonSet sets DEVICE_ID_STRATEGY=uuid, which beats the file (value in effect: \"uuid\") (line 3, column 23)"}},
  });
}

TEST_CASE("the plugin release an image names", "[devicepluginconfig][version]") {
  struct Row {
    std::string image;
    PluginVersion version;
    bool warns;
  };
  const std::vector<Row> rows = {
      {"nvcr.io/nvidia/k8s-device-plugin:v0.19.1", {0, 19, 1}, false},
      {"v0.17.0", {0, 17, 0}, false},
      {"registry.local:5000/nvidia/k8s-device-plugin:v0.20.0-ubi9", {0, 20, 0}, false},
      {"k8s-device-plugin:0.18.2", {0, 18, 2}, false},
      {"nvcr.io/nvidia/k8s-device-plugin@sha256:0123456789abcdef", kNewestPluginVersion, true},
      {"nvcr.io/nvidia/k8s-device-plugin:latest", kNewestPluginVersion, true},
      {"registry.local:5000/nvidia/k8s-device-plugin", kNewestPluginVersion, true},
      {"nvcr.io/nvidia/k8s-device-plugin:v0.16.2", kOldestPluginVersion, true},
      {"nvcr.io/nvidia/k8s-device-plugin:v0.21.0", kNewestPluginVersion, true},
  };
  for (const Row& row : rows) {
    DYNAMIC_SECTION(row.image) {
      const VersionFromImage got = plugin_version_from_image(row.image);
      CHECK(got.version == row.version);
      CHECK(got.warning.has_value() == row.warns);
    }
  }
  CHECK(plugin_version_from_image("k8s-device-plugin@sha256:ab").warning ==
        "device-plugin image \"k8s-device-plugin@sha256:ab\" is pinned by digest, so its release is unknown; "
        "the rules of v0.20.x apply");
  CHECK(parse_plugin_version("v0.19") == PluginVersion{0, 19, 0});
  CHECK_FALSE(parse_plugin_version("v0.19.1.2"));
  CHECK_FALSE(parse_plugin_version("latest"));
  CHECK(is_supported(PluginVersion{0, 20, 7}));
  CHECK_FALSE(is_supported(PluginVersion{0, 21, 0}));
  CHECK_FALSE(is_supported(PluginVersion{0, 16, 9}));
}

TEST_CASE("the summary uses the values the plugin reads", "[devicepluginconfig]") {
  const DocumentResult octal = validate_document(
      "o", "sharing:\n  timeSlicing:\n    resources: [{name: gpu, replicas: 010}]\n", {});
  CHECK(replicas_of(octal.summary, "nvidia.com/gpu") == 8);
  ValidationContext v019;
  v019.plugin_version = PluginVersion{0, 19, 1};
  const std::string mps_false =
      "sharing:\n  mps:\n    failRequestsGreaterThanOne: false\n    resources: [{name: gpu, replicas: 2}]\n";
  CHECK(validate_document("m", mps_false, v019).summary.fail_requests_greater_than_one);
  CHECK_FALSE(validate_document("m", mps_false, {}).summary.fail_requests_greater_than_one);
  const DocumentResult folded = validate_document(
      "f", "SHARING:\n  Mps:\n    resources: [{name: gpu, replicas: 3}]\n", {});
  CHECK(folded.summary.uses_mps);
  CHECK(folded.summary.max_mps_replicas == 3);
}

}  // namespace
}  // namespace cpo::deviceplugin::test
