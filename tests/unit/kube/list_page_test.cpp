#include "kube/list_page.hpp"

#include <stdexcept>
#include <vector>

#include <catch2/catch.hpp>

using cpo::kube::decode_list_page;
using cpo::kube::FieldMask;
using json = nlohmann::json;

namespace {

// A Node as the API server lists it, large parts and all.
json listed_node(const std::string& name) {
  return {{"metadata",
           {{"name", name},
            {"uid", "6f1c8e1a-0000-4000-8000-000000000001"},
            {"resourceVersion", "4711"},
            {"labels", {{"nvidia.com/gpu.present", "true"}, {"kubernetes.io/os", "linux"}}},
            {"annotations", {{"node.alpha.kubernetes.io/ttl", "0"}}},
            {"managedFields", json::array({{{"manager", "kwok"}, {"operation", "Update"}}})}}},
          {"spec", {{"podCIDR", "10.0.0.0/24"}}},
          {"status",
           {{"capacity", {{"cpu", "64"}, {"nvidia.com/gpu", "8"}}},
            {"allocatable", {{"cpu", "63"}}},
            {"conditions", json::array({{{"type", "Ready"}, {"status", "True"}}})},
            {"images", json::array({{{"names", json::array({"a", "b"})}, {"sizeBytes", 1234567}}})}}}};
}

json node_list(const std::vector<json>& items, const std::string& next = "") {
  json meta = {{"resourceVersion", "9000"}};
  if (!next.empty()) meta["continue"] = next;
  return {{"kind", "NodeList"}, {"apiVersion", "v1"}, {"metadata", meta}, {"items", items}};
}

const FieldMask kNodeFields{"metadata.name", "metadata.resourceVersion", "metadata.labels", "status.capacity"};

}  // namespace

TEST_CASE("A list page keeps only the fields of the mask of each item") {
  const auto page = decode_list_page(node_list({listed_node("a"), listed_node("b")}, "token-2").dump(), kNodeFields);
  CHECK(page.resource_version == "9000");
  CHECK(page.continue_token == "token-2");
  REQUIRE(page.items.size() == 2);
  CHECK(page.items[1] == json{{"metadata",
                               {{"name", "b"},
                                {"resourceVersion", "4711"},
                                {"labels", {{"nvidia.com/gpu.present", "true"}, {"kubernetes.io/os", "linux"}}}}},
                              {"status", {{"capacity", {{"cpu", "64"}, {"nvidia.com/gpu", "8"}}}}}});
}

TEST_CASE("The default mask keeps every field, as nlohmann::json reads them") {
  const json list = node_list({listed_node("a")});
  const auto page = decode_list_page(list.dump(), FieldMask{});
  REQUIRE(page.items.size() == 1);
  CHECK(page.items[0] == list["items"][0]);
  CHECK(page.items[0].dump() == list["items"][0].dump());
  CHECK(page.continue_token.empty());
}

TEST_CASE("Paths through arrays apply to each element and a shorter path keeps all of a longer one") {
  struct Case {
    const char* name;
    FieldMask mask;
    json expected;
  };
  const Case cases[] = {
      {"array elements", FieldMask{"status.images.sizeBytes"},
       {{"status", {{"images", json::array({{{"sizeBytes", 1234567}}})}}}}},
      {"shorter path first", FieldMask{"status", "status.capacity"}, {{"status", listed_node("a").at("status")}}},
      {"shorter path last", FieldMask{"status.capacity", "status"}, {{"status", listed_node("a").at("status")}}},
      {"absent field", FieldMask{"metadata.ownerReferences"}, {{"metadata", json::object()}}},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    const auto page = decode_list_page(node_list({listed_node("a")}).dump(), c.mask);
    REQUIRE(page.items.size() == 1);
    CHECK(page.items[0] == c.expected);
  }
}

TEST_CASE("A body simdjson refuses but JSON allows decodes the same, pruned") {
  // An integer beyond 64 bits: a double to nlohmann::json, an error to simdjson.
  const std::string body =
      R"({"kind":"List","metadata":{"resourceVersion":"7"},"items":[)"
      R"({"metadata":{"name":"a"},"spec":{"size":123456789012345678901234567890},"status":{"x":1}}]})";
  const auto page = decode_list_page(body, FieldMask{"metadata", "spec"});
  CHECK(page.resource_version == "7");
  REQUIRE(page.items.size() == 1);
  CHECK(page.items[0]["metadata"]["name"] == "a");
  CHECK(page.items[0]["spec"]["size"].is_number_float());
  CHECK_FALSE(page.items[0].contains("status"));
}

TEST_CASE("Numbers and booleans and nulls and repeated keys decode as nlohmann::json reads them") {
  const std::string item = R"({"a":-3,"b":18446744073709551615,"c":1.5,"d":true,"e":null,"f":0,"g":1,"g":2})";
  const auto page = decode_list_page(R"({"items":[)" + item + "]}", FieldMask{});
  REQUIRE(page.items.size() == 1);
  const json expected = json::parse(item);
  CHECK(page.items[0] == expected);
  CHECK(page.items[0].dump() == expected.dump());
  CHECK(page.items[0]["f"].is_number_unsigned() == expected["f"].is_number_unsigned());
}

TEST_CASE("A body that is not a list object is refused") {
  for (const char* body : {"", "not json", "[1,2]", R"({"items":[)"}) {
    INFO(body);
    CHECK_THROWS_AS(decode_list_page(body, kNodeFields), std::invalid_argument);
  }
  // A list without items (the server omits an empty one) has none.
  CHECK(decode_list_page(R"({"kind":"NodeList","metadata":{"resourceVersion":"1"}})", kNodeFields).items.empty());
}
