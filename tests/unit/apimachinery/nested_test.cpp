#include <catch2/catch.hpp>

#include "apimachinery/nested.hpp"

using namespace cpo::apimachinery;
using json = nlohmann::json;

TEST_CASE("Nested fields read by path, with a fallback for anything else", "[nested]") {
  const json object = json::parse(R"({
    "metadata": {"name": "cluster-policy", "generation": 3, "labels": {"a": "b"}},
    "status": {"failedHashes": ["h1", 2, "h2"], "ratio": 0.5, "flag": true},
    "list": [1, 2]
  })");
  CHECK(nested_string(object, {"metadata", "name"}) == "cluster-policy");
  CHECK(nested_string(object, {"metadata", "labels", "a"}) == "b");
  CHECK(nested_int(object, {"metadata", "generation"}) == 3);
  CHECK(nested_strings(object, {"status", "failedHashes"}) == std::vector<std::string>{"h1", "h2"});
  CHECK(nested_field(object, {"status", "flag"})->get<bool>());
  CHECK(nested_field(object, {}) == &object);

  // Missing, of another type, or through something that is not an object.
  CHECK(nested_string(object, {"metadata", "uid"}).empty());
  CHECK(nested_string(object, {"metadata", "uid"}, "none") == "none");
  CHECK(nested_string(object, {"metadata", "generation"}, "x") == "x");
  CHECK(nested_int(object, {"status", "ratio"}, -1) == -1);
  CHECK(nested_int(object, {"metadata", "name"}) == 0);
  CHECK(nested_field(object, {"list", "0"}) == nullptr);
  CHECK(nested_field(object, {"metadata", "name", "deeper"}) == nullptr);
  CHECK(nested_strings(object, {"metadata", "name"}).empty());
  CHECK(nested_string(json(nullptr), {"a"}).empty());
  CHECK(nested_string(json("text"), {"a"}).empty());
}
