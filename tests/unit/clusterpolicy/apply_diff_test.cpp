#include <catch2/catch.hpp>

#include "clusterpolicy/apply_diff.hpp"

using namespace cpo::clusterpolicy;
using json = nlohmann::json;

TEST_CASE("contains: what we declare must be present with equal values", "[apply_diff]") {
  json live = json::parse(R"({
    "metadata": {"name": "ds", "labels": {"app": "x", "extra": "y"}, "resourceVersion": "7"},
    "spec": {"template": {"metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": "now"}},
      "spec": {"containers": [{"name": "c", "image": "a:1", "imagePullPolicy": "IfNotPresent",
        "terminationMessagePath": "/dev/termination-log",
        "env": [{"name": "B", "value": "2"}, {"name": "A", "value": "1"}, {"name": "USER", "value": "u"}],
        "resources": {"limits": {"cpu": "1", "memory": "1Gi"}}}]}}}})");
  struct Case {
    const char* name;
    json desired;
    bool expected;
    const char* difference;
  };
  const Case cases[] = {
      {"a subset", json::parse(R"({"metadata": {"labels": {"app": "x"}}})"), true, ""},
      {"defaults the server added are ignored",
       json::parse(R"({"spec": {"template": {"spec": {"containers": [{"name": "c", "image": "a:1"}]}}}})"), true, ""},
      {"an image edited by hand is drift",
       json::parse(R"({"spec": {"template": {"spec": {"containers": [{"name": "c", "image": "a:2"}]}}}})"), false,
       "spec.template.spec.containers[name=c].image"},
      {"a missing label", json::parse(R"({"metadata": {"labels": {"app": "x", "new": "1"}}})"), false,
       "metadata.labels.new"},
      {"a named item missing",
       json::parse(R"({"spec": {"template": {"spec": {"containers": [{"name": "c"}, {"name": "d"}]}}}})"), false,
       "spec.template.spec.containers[name=d]"},
      {"named items in another order, and one added by someone else, are equal",
       json::parse(R"({"spec": {"template": {"spec": {"containers": [{"name": "c",
          "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]}]}}}})"), true, ""},
      {"a named item with another value",
       json::parse(R"({"spec": {"template": {"spec": {"containers": [{"name": "c",
          "env": [{"name": "A", "value": "9"}]}]}}}})"), false,
       "spec.template.spec.containers[name=c].env[name=A].value"},
      {"an unnamed list of another length",
       json::parse(R"({"metadata": {"finalizers": ["a"]}})"), false, "metadata.finalizers"},
      {"canonical quantities are equal",
       json::parse(R"({"spec": {"template": {"spec": {"containers": [{"name": "c",
          "resources": {"limits": {"cpu": "1000m", "memory": "1024Mi"}}}]}}}})"), true, ""},
      {"different quantities differ",
       json::parse(R"({"spec": {"template": {"spec": {"containers": [{"name": "c",
          "resources": {"limits": {"cpu": "500m"}}}]}}}})"), false,
       "spec.template.spec.containers[name=c].resources.limits.cpu"},
      {"an empty object we declare may be absent", json::parse(R"({"spec": {"selector": {}}})"), true, ""},
      {"a type change", json::parse(R"({"metadata": {"name": 5}})"), false, "metadata.name"},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    CHECK(contains(live, c.desired) == c.expected);
    CHECK(first_difference(live, c.desired) == c.difference);
  }
}

TEST_CASE("contains: quantities compare by value only under resources", "[apply_diff]") {
  CHECK_FALSE(contains(json("1"), json("01x")));
  CHECK(contains(json("true"), json("true")));
  CHECK_FALSE(contains(json("true"), json(true)));
  CHECK(contains(json(2), json(2.0)));
  // Elsewhere a string is a string: "1.10" and "1.1" are different versions.
  CHECK_FALSE(contains(json({{"env", {{{"name", "V"}, {"value", "1.1"}}}}}),
                       json({{"env", {{{"name", "V"}, {"value", "1.10"}}}}})));
  CHECK_FALSE(contains(json({{"labels", {{"n", "10"}}}}), json({{"labels", {{"n", "010"}}}})));
  CHECK(contains(json({{"resources", {{"requests", {{"cpu", "2"}}}}}}),
                 json({{"resources", {{"requests", {{"cpu", 2}}}}}})));  // a quantity written as a number
}
