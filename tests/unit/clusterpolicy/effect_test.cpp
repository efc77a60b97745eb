#include <catch2/catch.hpp>

#include "clusterpolicy/effect.hpp"

using namespace cpo::clusterpolicy;
using json = nlohmann::json;

namespace {

const auto kT0 = std::chrono::system_clock::time_point(std::chrono::seconds(1795000000));

// A GPU node as GFD and the device plugin leave it: `count` GPUs shown with
// `replicas`, `strategy` and `product`, and the capacity given (none: not cached).
json node(const std::string& name, const std::map<std::string, std::string>& labels,
          std::optional<std::map<std::string, std::string>> capacity = std::nullopt) {
  json n = {{"metadata", {{"name", name}, {"labels", labels}}}};
  if (capacity) n["status"]["capacity"] = *capacity;
  return n;
}

std::map<std::string, std::string> gfd(const std::string& replicas, const std::string& strategy,
                                       const std::string& product, const std::string& count = "2") {
  return {{"nvidia.com/gpu.count", count},
          {"nvidia.com/gpu.replicas", replicas},
          {"nvidia.com/gpu.sharing-strategy", strategy},
          {"nvidia.com/gpu.product", product},
          {"feature.node.kubernetes.io/pci-10de.present", "true"}};
}

std::map<std::string, std::string> with(std::map<std::string, std::string> labels, const std::string& key,
                                        const std::string& value) {
  labels[key] = value;
  return labels;
}

EffectInputs inputs() {
  EffectInputs in;
  in.hash = "abc123";
  in.rolled_out = true;
  in.configs = {{"mps-four", {4, "mps", false}}, {"mps-two", {2, "mps", false}}, {"ts-renamed", {3, "time-slicing", true}}};
  in.default_key = "mps-four";
  in.now = kT0;
  return in;
}

}  // namespace

TEST_CASE("A node's labels and capacity against the config it selects", "[effect]") {
  const auto four = gfd("4", "mps", "A100-SHARED");
  struct Case {
    const char* name;
    json node;
    NodeEffect effect;
    const char* difference;
  };
  const Case cases[] = {
      {"the default config, shown", node("a", four, {{{"nvidia.com/gpu", "8"}}}), NodeEffect::InEffect, ""},
      {"capacity not cached: labels decide", node("a", four), NodeEffect::InEffect, ""},
      {"the replicas lag", node("a", gfd("2", "mps", "A100-SHARED")), NodeEffect::Pending,
       "nvidia.com/gpu.replicas is 2, config mps-four says 4"},
      {"the strategy differs", node("a", gfd("4", "time-slicing", "A100-SHARED")), NodeEffect::Pending,
       "nvidia.com/gpu.sharing-strategy is time-slicing, config mps-four says mps"},
      {"shared without the -SHARED suffix", node("a", gfd("4", "mps", "A100")), NodeEffect::Pending,
       "nvidia.com/gpu.product is A100, config mps-four shares it: -SHARED expected"},
      {"capacity of the old config", node("a", four, {{{"nvidia.com/gpu", "2"}}}), NodeEffect::Pending,
       "capacity nvidia.com/gpu is 2, config mps-four says 8 (2 GPUs x 4)"},
      {"no capacity advertised", node("a", four, {{}}), NodeEffect::Pending,
       "capacity has no nvidia.com/gpu, config mps-four says 8 (2 GPUs x 4)"},
      {"the node's own selection", node("a", with(gfd("2", "mps", "A100-SHARED"), "nvidia.com/device-plugin.config", "mps-two")),
       NodeEffect::InEffect, ""},
      {"renamed: nvidia.com/gpu.shared, no suffix",
       node("a", with(gfd("3", "time-slicing", "A100"), "nvidia.com/device-plugin.config", "ts-renamed"),
            {{{"nvidia.com/gpu", "0"}, {"nvidia.com/gpu.shared", "6"}}}),
       NodeEffect::InEffect, ""},
      {"renamed but still advertising nvidia.com/gpu",
       node("a", with(gfd("3", "time-slicing", "A100"), "nvidia.com/device-plugin.config", "ts-renamed"),
            {{{"nvidia.com/gpu", "6"}, {"nvidia.com/gpu.shared", "6"}}}),
       NodeEffect::Pending, "capacity nvidia.com/gpu is 6, config ts-renamed renames it to nvidia.com/gpu.shared (0 expected)"},
      {"renamed with the suffix",
       node("a", with(gfd("3", "time-slicing", "A100-SHARED"), "nvidia.com/device-plugin.config", "ts-renamed")),
       NodeEffect::Pending, "nvidia.com/gpu.product is A100-SHARED, config ts-renamed renames the resource: no -SHARED expected"},
      {"a key the config has not", node("a", with(four, "nvidia.com/device-plugin.config", "mps-eight")),
       NodeEffect::Pending, "selects config mps-eight, which the mounted config does not have"},
      {"no GFD label at all", node("a", {{"nvidia.com/gpu.present", "true"}}), NodeEffect::Unknown,
       "no label of GPU Feature Discovery"},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    const auto verdict = verify_node(inputs(), c.node);
    CHECK(verdict.effect == c.effect);
    CHECK(verdict.difference == c.difference);
  }
}

TEST_CASE("Without a default key a node without a selection gets the empty config", "[effect]") {
  auto in = inputs();
  in.default_key = "";
  CHECK(verify_node(in, node("a", gfd("1", "none", "A100"), {{{"nvidia.com/gpu", "2"}}})).effect == NodeEffect::InEffect);
  CHECK(verify_node(in, node("a", gfd("4", "mps", "A100-SHARED"))).difference ==
        "nvidia.com/gpu.replicas is 4, config (none: the empty config) says 1");
}

TEST_CASE("A disagreeing node is Pending during the rollout and the grace period, then Mismatched", "[effect]") {
  const json lagging = node("gpu-7", gfd("2", "mps", "A100-SHARED"));
  const json fine = node("gpu-1", gfd("4", "mps", "A100-SHARED"));
  auto in = inputs();
  in.nodes = {&fine, &lagging};
  in.grace = std::chrono::seconds(120);

  in.rolled_out = false;  // the consumers still roll: no clock runs
  auto report = verify_effect(in);
  CHECK(report.count(NodeEffect::Pending) == 1);
  CHECK_FALSE(report.check_again);
  CHECK(report.disagreeing_since.empty());

  in.rolled_out = true;  // rolled out: the clock starts now and a check is due when it ends
  in.now = kT0 + std::chrono::minutes(10);
  in.disagreeing_since = report.disagreeing_since;
  report = verify_effect(in);
  CHECK(report.count(NodeEffect::Pending) == 1);
  CHECK(report.disagreeing_since.at("gpu-7") == kT0 + std::chrono::minutes(10));
  REQUIRE(report.check_again);
  CHECK(*report.check_again == std::chrono::seconds(121));

  in.disagreeing_since = report.disagreeing_since;
  in.now += std::chrono::seconds(119);
  CHECK(verify_effect(in).count(NodeEffect::Pending) == 1);
  in.now += std::chrono::seconds(1);
  report = verify_effect(in);
  CHECK(report.count(NodeEffect::Mismatched) == 1);
  CHECK(report.mismatched == std::set<std::string>{"gpu-7"});
  CHECK(report.count(NodeEffect::InEffect) == 1);
  CHECK_FALSE(report.all_in_effect());

  // Once it shows the config its clock is forgotten.
  const json caught_up = node("gpu-7", gfd("4", "mps", "A100-SHARED"));
  in.nodes = {&fine, &caught_up};
  report = verify_effect(in);
  CHECK(report.all_in_effect());
  CHECK(report.disagreeing_since.empty());
}

TEST_CASE("The status block counts every state and lists a few nodes by name", "[effect]") {
  std::vector<json> nodes;
  for (int i = 0; i < 8; ++i) nodes.push_back(node("gpu-" + std::to_string(i), gfd("2", "mps", "A100-SHARED")));
  nodes.push_back(node("gpu-ok", gfd("4", "mps", "A100-SHARED")));
  auto in = inputs();
  for (const auto& n : nodes) in.nodes.push_back(&n);
  const auto block = effect_status(in, verify_effect(in));
  CHECK(block["summary"] == "1/9");
  CHECK(block["pending"] == 8);
  CHECK(block["mismatched"] == 0);
  CHECK(block["pendingNodes"].size() == kListedNodes);
  CHECK(block["pendingNodes"][0] == json({{"name", "gpu-0"}, {"message", "nvidia.com/gpu.replicas is 2, config mps-four says 4"}}));
  CHECK_FALSE(block.contains("inEffectHash"));
  CHECK_FALSE(block.contains("warning"));
}

TEST_CASE("GPU nodes without Node Feature Discovery are called out", "[effect]") {
  const json bare = node("gpu-0", {{"nvidia.com/gpu.present", "true"}});
  auto in = inputs();
  in.nodes = {&bare};
  const auto report = verify_effect(in);
  CHECK(report.nfd_missing);
  CHECK(effect_status(in, report)["warning"].get<std::string>().find("never appear") != std::string::npos);
}

TEST_CASE("What a config summary implies for the node", "[effect]") {
  cpo::deviceplugin::ConfigSummary none;
  CHECK(expected_sharing(none).replicas == 1);
  CHECK(expected_sharing(none).strategy == "none");
  cpo::deviceplugin::ConfigSummary mps;
  mps.strategy = cpo::deviceplugin::SharingStrategy::Mps;
  mps.uses_mps = true;
  mps.rename_by_default = true;
  mps.resources = {{"nvidia.com/gpu", 4, "sharing.mps.resources[0]", 0, 0}};
  const auto want = expected_sharing(mps);
  CHECK(want.replicas == 4);
  CHECK(want.strategy == "mps");
  CHECK(want.renamed);
}
