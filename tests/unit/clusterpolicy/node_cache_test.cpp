#include <catch2/catch.hpp>

#include "clusterpolicy/node_cache.hpp"
#include "clusterpolicy/vocabulary.hpp"
#include "kube/list_page.hpp"

using namespace cpo;
using json = nlohmann::json;

namespace {

// A GPU Node as the API server lists it: GFD's and NFD's labels, capacity, the bulk.
json listed_node() {
  json labels = {{"kubernetes.io/hostname", "gpu-1"},
                 {"nvidia.com/gpu.memory", "81920"},
                 {"nvidia.com/cuda.driver.major", "550"},
                 {"feature.node.kubernetes.io/cpu-cpuid.AVX", "true"}};
  for (const char* key : clusterpolicy::kNodeLabelsRead) labels[key] = std::string("value-of-") + key;
  return {{"metadata",
           {{"name", "gpu-1"},
            {"uid", "6f1c8e1a-0000-4000-8000-000000000001"},
            {"resourceVersion", "4711"},
            {"labels", labels},
            {"annotations", {{"nfd.node.kubernetes.io/feature-labels", "cpu-cpuid.AVX"}}},
            {"managedFields", json::array({{{"manager", "kwok"}, {"operation", "Update"}}})}}},
          {"spec", {{"providerID", "kwok://gpu-1"}}},
          {"status",
           {{"capacity", {{"cpu", "96"}, {"memory", "1Ti"}, {"nvidia.com/gpu", "8"}, {"nvidia.com/gpu.shared", "16"}}},
            {"allocatable", {{"nvidia.com/gpu", "8"}}},
            {"conditions", json::array({{{"type", "Ready"}, {"status", "True"}}})},
            {"images", json::array({{{"names", json::array({"registry/image:1"})}, {"sizeBytes", 123}}})}}}};
}

json cached(json node) {
  clusterpolicy::node_cache_options().transform(node);
  return node;
}

}  // namespace

TEST_CASE("The Node cache keeps the name, the labels the operator reads and the nvidia.com capacity") {
  const json node = cached(listed_node());
  json labels = json::object();
  for (const char* key : clusterpolicy::kNodeLabelsRead) labels[key] = std::string("value-of-") + key;
  CHECK(node == json{{"metadata", {{"name", "gpu-1"}, {"resourceVersion", "4711"}, {"labels", labels}}},
                     {"status", {{"capacity", {{"nvidia.com/gpu", "8"}, {"nvidia.com/gpu.shared", "16"}}}}}});
}

TEST_CASE("A Node listed through the cache's field mask caches the same as the whole Node") {
  const auto options = clusterpolicy::node_cache_options();
  const json list = {{"kind", "NodeList"}, {"metadata", {{"resourceVersion", "9"}}}, {"items", {listed_node()}}};
  auto page = kube::decode_list_page(list.dump(), options.fields);
  REQUIRE(page.items.size() == 1);
  // The bulk is never decoded.
  CHECK_FALSE(page.items[0].contains("spec"));
  CHECK_FALSE(page.items[0]["metadata"].contains("managedFields"));
  CHECK(page.items[0]["status"] == json{{"capacity", listed_node()["status"]["capacity"]}});
  CHECK(cached(page.items[0]) == cached(listed_node()));
}

TEST_CASE("A Node without labels or status caches with empty ones") {
  CHECK(cached({{"metadata", {{"name", "bare"}}}}) ==
        json{{"metadata", {{"name", "bare"}, {"resourceVersion", ""}, {"labels", json::object()}}},
             {"status", {{"capacity", json::object()}}}});
}
