#include <catch2/catch.hpp>

#include "kube/resource.hpp"

using namespace cpo::kube;

TEST_CASE("Resource paths for core, group, namespaced and cluster-scoped kinds", "[resource]") {
  struct Case {
    const Resource* resource;
    ObjectRef ref;
    const char* path;
  };
  const Case cases[] = {
      {&resources::configmaps, {"gpu-operator", "", ""}, "/api/v1/namespaces/gpu-operator/configmaps"},
      {&resources::configmaps, {"", "", ""}, "/api/v1/configmaps"},
      {&resources::configmaps, {"ns", "cm", ""}, "/api/v1/namespaces/ns/configmaps/cm"},
      {&resources::nodes, {"ignored", "node-1", ""}, "/api/v1/nodes/node-1"},
      {&resources::nodes, {"", "node-1", "status"}, "/api/v1/nodes/node-1/status"},
      {&resources::pods, {"ns", "p", "binding"}, "/api/v1/namespaces/ns/pods/p/binding"},
      {&resources::daemonsets, {"ns", "ds", ""}, "/apis/apps/v1/namespaces/ns/daemonsets/ds"},
      {&resources::clusterpolicies, {"", "cluster-policy", "status"},
       "/apis/nvidia.com/v1/clusterpolicies/cluster-policy/status"},
      {&resources::customresourcedefinitions, {"", "", ""},
       "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"},
      {&resources::leases, {"kube-system", "lock", ""},
       "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/lock"},
  };
  for (const auto& c : cases) {
    CHECK(resource_path(*c.resource, c.ref) == c.path);
  }
}

TEST_CASE("Names are escaped as path segments", "[resource]") {
  CHECK(resource_path(resources::configmaps, {"ns", "a/b c", ""}) == "/api/v1/namespaces/ns/configmaps/a%2Fb%20c");
}

TEST_CASE("Addressing mistakes are refused before any request", "[resource]") {
  CHECK_THROWS_AS(resource_path(resources::configmaps, {"", "cm", ""}), std::invalid_argument);
  CHECK_THROWS_AS(resource_path(resources::pods, {"ns", "", "status"}), std::invalid_argument);
}

TEST_CASE("List and watch query strings", "[resource]") {
  CHECK(list_query({}, false).empty());
  CHECK(list_query({}, true) == "?watch=true");
  ListOptions options;
  options.label_selector = "app=nvidia-device-plugin-daemonset,tier in (a,b)";
  options.field_selector = "metadata.name=x";
  options.limit = 500;
  options.continue_token = "abc==";
  CHECK(list_query(options, false) ==
        "?labelSelector=app%3Dnvidia-device-plugin-daemonset%2Ctier%20in%20%28a%2Cb%29"
        "&fieldSelector=metadata.name%3Dx&limit=500&continue=abc%3D%3D");
  ListOptions watch;
  watch.resource_version = "12345";
  watch.timeout_seconds = 300;
  watch.allow_watch_bookmarks = true;
  CHECK(list_query(watch, true) == "?watch=true&resourceVersion=12345&timeoutSeconds=300&allowWatchBookmarks=true");
  // Bookmarks only mean something on a watch.
  CHECK(list_query(watch, false) == "?resourceVersion=12345&timeoutSeconds=300");
}

TEST_CASE("apiVersion of core and group kinds", "[resource]") {
  CHECK(resources::pods.api_version() == "v1");
  CHECK(resources::daemonsets.api_version() == "apps/v1");
  CHECK(resources::clusterpolicies.api_version() == "nvidia.com/v1");
}
