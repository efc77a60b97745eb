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
