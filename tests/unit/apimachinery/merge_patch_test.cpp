#include <catch2/catch.hpp>

#include "apimachinery/merge_patch.hpp"

using cpo::apimachinery::merge_patch_between;
using json = nlohmann::json;

TEST_CASE("merge_patch_between turns one status into another", "[merge_patch]") {
  json from = json::parse(R"({"state": "notReady", "operands": {"a": {"ready": 0}, "gone": {"ready": 1}},
                               "conditions": [{"type": "Ready"}], "old": 1})");
  json to = json::parse(R"({"state": "ready", "operands": {"a": {"ready": 1}},
                             "conditions": [{"type": "Ready"}, {"type": "Error"}], "new": true})");
  json patch = merge_patch_between(from, to);
  CHECK(patch == json::parse(R"({"state": "ready", "operands": {"a": {"ready": 1}, "gone": null},
                                 "conditions": [{"type": "Ready"}, {"type": "Error"}], "old": null, "new": true})"));
  json applied = from;
  applied.merge_patch(patch);
  CHECK(applied == to);
  CHECK(merge_patch_between(to, to).empty());
}

TEST_CASE("merge_patch_between replaces what is not an object on either side", "[merge_patch]") {
  CHECK(merge_patch_between(json::object(), json::array({1})) == json::array({1}));
  CHECK(merge_patch_between(json::parse(R"({"a": [1, 2]})"), json::parse(R"({"a": [2]})")) ==
        json::parse(R"({"a": [2]})"));
  CHECK(merge_patch_between(json::parse(R"({"a": {"b": 1}})"), json::parse(R"({"a": 3})")) ==
        json::parse(R"({"a": 3})"));
}
