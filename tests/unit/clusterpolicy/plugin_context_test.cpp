#include <catch2/catch.hpp>

#include "clusterpolicy/plugin_context.hpp"
#include "clusterpolicy/vocabulary.hpp"

using namespace cpo::clusterpolicy;

namespace {

nlohmann::json policy(const nlohmann::json& spec, const std::string& unknown_keys = "") {
  nlohmann::json p = {{"metadata", {{"name", "cluster-policy"}}}, {"spec", spec}};
  if (!unknown_keys.empty()) p["metadata"]["annotations"][kUnknownConfigKeysAnnotation] = unknown_keys;
  return p;
}

PluginContext context_of(const nlohmann::json& p, const std::string& default_image) {
  return plugin_context(p, parse_spec(p["spec"]), default_image);
}

}  // namespace

TEST_CASE("Plugin context: the image's warning is used as it is, naming the image once", "[plugin_context]") {
  const auto c = context_of(policy(nlohmann::json::object()), "example.com/dp@sha256:0123");
  REQUIRE(c.warning);
  CHECK(*c.warning ==
        "device-plugin image \"example.com/dp@sha256:0123\" is pinned by digest, so its release is unknown; "
        "the rules of v0.20.x apply");
}

TEST_CASE("Plugin context: the image tag names the release", "[plugin_context]") {
  const auto c = context_of(policy({{"devicePlugin", {{"image", "nvcr.io/nvidia/k8s-device-plugin:v0.18.2"}}}}),
                            "nvcr.io/nvidia/k8s-device-plugin:v0.20.0");
  CHECK(c.version.str() == cpo::deviceplugin::PluginVersion{0, 18, 2}.str());
  CHECK_FALSE(c.warning);
}

TEST_CASE("Plugin context: the spec's env beats the operator's variables", "[plugin_context]") {
  const auto spec = nlohmann::json{{"devicePlugin", {{"env", {{{"name", "DEVICE_ID_STRATEGY"}, {"value", "index"}},
                                                              {{"name", "GDS_ENABLED"}, {"value", "true"}}}}}}};
  const auto c = context_of(policy(spec), "dp:v0.20.0");
  CHECK(c.env.at("DEVICE_ID_STRATEGY") == "index");
  CHECK(c.env.at("GDS_ENABLED") == "true");
  CHECK(c.env.at("PASS_DEVICE_SPECS") == "true");
}

TEST_CASE("Plugin context: the unknown-keys annotation", "[plugin_context]") {
  struct Row {
    std::string annotation;
    cpo::deviceplugin::UnknownKeys expected;
    bool warned;
  };
  const std::vector<Row> rows = {
      {"", cpo::deviceplugin::UnknownKeys::Refuse, false},
      {"refuse", cpo::deviceplugin::UnknownKeys::Refuse, false},
      {"warn", cpo::deviceplugin::UnknownKeys::Warn, false},
      {"loose", cpo::deviceplugin::UnknownKeys::Refuse, true},
  };
  for (const auto& row : rows) {
    CAPTURE(row.annotation);
    const auto c = context_of(policy(nlohmann::json::object(), row.annotation), "dp:v0.20.0");
    CHECK(c.unknown_keys == row.expected);
    CHECK(static_cast<bool>(c.warning) == row.warned);
    if (c.warning) CHECK(c.warning->find("=\"loose\" ignored (expected refuse or warn)") != std::string::npos);
  }
}
