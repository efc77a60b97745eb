#include <catch2/catch.hpp>

#include "clusterpolicy/node_labels.hpp"

using namespace cpo::clusterpolicy;

TEST_CASE("Deploy labels follow the GPU and honour values others set", "[node_labels]") {
  using Changes = std::map<std::string, std::optional<std::string>>;
  const std::string dp = kDeployDevicePluginLabel;
  const std::string gfd = kDeployGfdLabel;
  struct Case {
    const char* name;
    Labels labels;
    Changes expected;
  };
  const Case cases[] = {
      {"a GPU node gets both", {{"nvidia.com/gpu.present", "true"}}, {{dp, "true"}, {gfd, "true"}}},
      {"NFD's PCI label counts as a GPU", {{"feature.node.kubernetes.io/pci-10de.present", "true"}},
       {{dp, "true"}, {gfd, "true"}}},
      {"existing values are honoured (operands paused)",
       {{"nvidia.com/gpu.present", "true"}, {dp, "paused-for-mig-change"}, {gfd, "false"}}, {}},
      {"one missing label is added", {{"nvidia.com/gpu.present", "true"}, {dp, "true"}}, {{gfd, "true"}}},
      {"operands=false removes them",
       {{"nvidia.com/gpu.present", "true"}, {"nvidia.com/gpu.deploy.operands", "false"}, {dp, "true"}, {gfd, "true"}},
       {{dp, std::nullopt}, {gfd, std::nullopt}}},
      {"the GPU is gone: removed", {{dp, "true"}, {gfd, "true"}}, {{dp, std::nullopt}, {gfd, std::nullopt}}},
      {"gpu.present=false is no GPU", {{"nvidia.com/gpu.present", "false"}}, {}},
      {"a node without GPU and labels: nothing", {{"kubernetes.io/os", "linux"}}, {}},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    CHECK(node_label_changes(c.labels) == c.expected);
  }
}

TEST_CASE("The deploy labels as a merge patch of the Node", "[node_labels]") {
  CHECK_FALSE(node_label_patch({{"kubernetes.io/os", "linux"}}));
  const auto add = node_label_patch({{"nvidia.com/gpu.present", "true"}});
  REQUIRE(add);
  CHECK(*add == nlohmann::json::parse(R"({"metadata":{"labels":{
      "nvidia.com/gpu.deploy.device-plugin":"true","nvidia.com/gpu.deploy.gpu-feature-discovery":"true"}}})"));
  const auto remove = node_label_patch({{kDeployDevicePluginLabel, "true"}});
  REQUIRE(remove);
  CHECK(*remove == nlohmann::json::parse(R"({"metadata":{"labels":{"nvidia.com/gpu.deploy.device-plugin":null}}})"));
}

TEST_CASE("A node's labels are read leniently", "[node_labels]") {
  CHECK(labels_of(nlohmann::json::object()).empty());
  CHECK(labels_of({{"metadata", {{"labels", nullptr}}}}).empty());
  CHECK(labels_of({{"metadata", {{"labels", {{"a", "1"}, {"b", 2}}}}}}) == Labels{{"a", "1"}});
}

TEST_CASE("Only what the ClusterPolicy reads of a node brings its reconcile", "[node_labels]") {
  const Labels gpu{{"nvidia.com/gpu.present", "true"}};
  auto with = [](Labels labels, const std::string& key, const std::string& value) {
    labels[key] = value;
    return labels;
  };
  struct Case {
    const char* name;
    Labels before, after;
    bool expected;
  };
  const Case cases[] = {
      {"unchanged", gpu, gpu, false},
      {"the GPU comes", {}, gpu, true},
      {"the GPU goes", gpu, {}, true},
      {"NFD's PCI label is a GPU too", gpu, {{kNfdNvidiaPciLabel, "true"}}, false},
      {"the device plugin comes to the node", gpu, with(gpu, kDeployDevicePluginLabel, "true"), true},
      {"the GFD deploy label", gpu, with(gpu, kDeployGfdLabel, "true"), false},
      {"GFD's sharing labels: the config's effect", gpu, with(gpu, kGpuReplicasLabel, "4"), true},
      {"GFD's product label", with(gpu, kGpuProductLabel, "A100"), with(gpu, kGpuProductLabel, "A100-SHARED"), true},
      {"GFD's other labels", gpu, with(gpu, "nvidia.com/cuda.driver.major", "550"), false},
      {"a config is selected", gpu, with(gpu, kConfigNodeLabel, "mps-two"), true},
      {"another config is selected", with(gpu, kConfigNodeLabel, "a"), with(gpu, kConfigNodeLabel, "b"), true},
      {"the selection is removed", with(gpu, kConfigNodeLabel, "a"), gpu, true},
      {"compute capability", gpu, with(gpu, kComputeMajorLabel, "8"), true},
      {"compute minor", with(gpu, kComputeMinorLabel, "0"), with(gpu, kComputeMinorLabel, "6"), true},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    CHECK(affects_policy(c.before, c.after) == c.expected);
  }
}
