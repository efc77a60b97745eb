// The whole ConfigMap: every key, config.default, the keys nodes select by label, and
// per-node limits from the nodes' GPU labels.
#include "support.hpp"

#include <catch2/catch.hpp>

namespace cpo::deviceplugin::test {
namespace {

std::string mps_config(int replicas) {
  return "version: v1\nsharing:\n  mps:\n    resources:\n    - name: nvidia.com/gpu\n      replicas: " +
         std::to_string(replicas) + "\n";
}

// The user guide's two ConfigMaps.
const std::map<std::string, std::string> kMpsConfigAll = {{"mps-any", mps_config(4)}};
const std::map<std::string, std::string> kMpsConfigFine = {{"mps-two", mps_config(2)},
                                                           {"mps-four", mps_config(4)}};

NodeSelection node(std::string name, std::string key, std::optional<int> major = std::nullopt,
                   std::optional<int> minor = std::nullopt) {
  return NodeSelection{std::move(name), std::move(key), major, minor};
}

std::vector<std::string> check(const std::map<std::string, std::string>& data,
                               const std::optional<std::string>& default_key,
                               const std::vector<NodeSelection>& nodes, std::string_view name = "dp-config") {
  return lines(validate_configmap(data, default_key, nodes, {}, name).problems);
}

TEST_CASE("the user guide's ConfigMaps are valid", "[devicepluginconfig][configmap]") {
  SECTION("mps-config-all with config.default mps-any") {
    const ConfigMapResult result =
        validate_configmap(kMpsConfigAll, "mps-any", {node("a", ""), node("b", "", 8, 0)}, {}, "mps-config-all");
    CHECK(lines(result.problems).empty());
    CHECK(result.ok());
    REQUIRE(result.summaries.count("mps-any") == 1);
    CHECK(result.summaries.at("mps-any").uses_mps);
    CHECK(replicas_of(result.summaries.at("mps-any"), "nvidia.com/gpu") == 4);
  }
  SECTION("mps-config-fine without a default, nodes labelled") {
    const ConfigMapResult result = validate_configmap(
        kMpsConfigFine, std::nullopt, {node("t4-1", "mps-two", 7, 5), node("t4-2", "mps-four"), node("cpu", "")}, {},
        "mps-config-fine");
    CHECK(lines(result.problems).empty());
    CHECK(result.summaries.at("mps-two").max_mps_replicas == 2);
    CHECK(result.summaries.at("mps-four").max_mps_replicas == 4);
  }
}

TEST_CASE("ConfigMap-level problems", "[devicepluginconfig][configmap]") {
  SECTION("no data") {
    CHECK(check({}, std::nullopt, {}) ==
          std::vector<std::string>{
              "error: ConfigMap \"dp-config\" has no data keys; it needs at least one device-plugin config"});
  }
  SECTION("config.default names a missing key") {
    CHECK(check(kMpsConfigFine, "mps-any", {}) ==
          std::vector<std::string>{
              "error: config.default \"mps-any\" is not a key of ConfigMap \"dp-config\" (keys: mps-four, mps-two)"});
  }
  SECTION("an empty config.default means none") { CHECK(check(kMpsConfigFine, "", {}).empty()); }
  SECTION("a node selects a missing key") {
    CHECK(check(kMpsConfigFine, std::nullopt, {node("gpu-2", "mps-eight"), node("gpu-1", "mps-two")}, "") ==
          std::vector<std::string>{
              "error: node \"gpu-2\" selects \"mps-eight\" with label nvidia.com/device-plugin.config, which is not a "
              "key of the ConfigMap (keys: mps-four, mps-two)"});
  }
  SECTION("every key is validated, problems carry their key") {
    const std::map<std::string, std::string> data = {{"bad", "version: v3\n"}, {"good", mps_config(2)}};
    CHECK(check(data, "good", {}) ==
          std::vector<std::string>{"error: bad: version: unknown version: v3 (line 1, column 10)"});
  }
}

TEST_CASE("MPS replicas per node compute capability", "[devicepluginconfig][configmap]") {
  const std::map<std::string, std::string> data = {{"mps-20", mps_config(20)}, {"mps-16", mps_config(16)},
                                                   {"ts-20", "sharing:\n  timeSlicing:\n    resources: [{name: gpu, replicas: 20}]\n"}};
  SECTION("a pre-Volta node selecting 20 MPS replicas") {
    CHECK(check(data, std::nullopt, {node("p100", "mps-20", 6, 0)}) ==
          std::vector<std::string>{
              "error: mps-20: sharing.mps.resources[0].replicas: node \"p100\" (compute capability 6.0) supports at "
              "most 16 MPS replicas per GPU, got 20 (line 6, column 17)"});
  }
  SECTION("a compute 7.0 node is below 7.5 too, and the default counts") {
    CHECK(check(data, "mps-20", {node("v100", "", 7, 0)}) ==
          std::vector<std::string>{
              "error: mps-20: sharing.mps.resources[0].replicas: node \"v100\" (compute capability 7.0, via "
              "config.default) supports at most 16 MPS replicas per GPU, got 20 (line 6, column 17)"});
  }
  SECTION("no error at the limit, on newer GPUs, with unknown capability or with time-slicing") {
    CHECK(check(data, std::nullopt,
                {node("p100", "mps-16", 6, 0), node("t4", "mps-20", 7, 5), node("a100", "mps-20", 8, 0),
                 node("unknown", "mps-20"), node("seven", "mps-20", 7), node("k80", "ts-20", 3, 7)})
              .empty());
  }
}

}  // namespace
}  // namespace cpo::deviceplugin::test
