// Informers against a real apiserver: every change made with kubectl is seen,
// and after etcd compaction plus an apiserver restart the informer lists again
// and delivers exactly what it missed.
#include <catch2/catch.hpp>

#include <map>
#include <mutex>
#include <set>

#include "runtime/informer.hpp"
#include "support/test_cluster.hpp"

using namespace cpo;
using cpo::testing::TestCluster;
using json = nlohmann::json;

namespace {

// Records what handlers saw, per object name.
struct Recorder {
  std::mutex mutex;
  std::vector<std::string> log;  // "add a", "update a 2", "delete a"
  std::map<std::string, std::string> latest;  // name -> data.v as last seen

  runtime::EventHandler handler() {
    return runtime::EventHandler{
        [this](const runtime::ObjectPtr& o) { note("add", *o); },
        [this](const runtime::ObjectPtr&, const runtime::ObjectPtr& o) { note("update", *o); },
        [this](const runtime::ObjectPtr& o) {
          std::lock_guard lock(mutex);
          std::string name = (*o)["metadata"]["name"];
          log.push_back("delete " + name);
          latest.erase(name);
        }};
  }
  void note(const char* what, const json& o) {
    std::lock_guard lock(mutex);
    std::string name = o["metadata"]["name"];
    std::string v = o.contains("data") ? o["data"].value("v", "") : "";
    log.push_back(std::string(what) + " " + name + (v.empty() ? "" : " " + v));
    latest[name] = v;
  }
  bool has(const std::string& entry) {
    std::lock_guard lock(mutex);
    return std::find(log.begin(), log.end(), entry) != log.end();
  }
  std::map<std::string, std::string> snapshot() {
    std::lock_guard lock(mutex);
    return latest;
  }
};

// name -> data.v of the informer's cache.
std::map<std::string, std::string> cache_view(const runtime::Informer& informer) {
  std::map<std::string, std::string> out;
  for (const auto& o : informer.store().list()) {
    out[(*o)["metadata"]["name"]] = o->contains("data") ? (*o)["data"].value("v", "") : "";
  }
  return out;
}

std::map<std::string, std::string> server_view(kube::Client& client, const std::string& ns) {
  std::map<std::string, std::string> out;
  const json list = client.list(kube::resources::configmaps, ns);
  for (const auto& o : list["items"]) {
    out[o["metadata"]["name"]] = o.contains("data") ? o["data"].value("v", "") : "";
  }
  return out;
}

}  // namespace

TEST_CASE("An informer sees every change made with kubectl", "[runtime][integration]") {
  const auto& cluster = TestCluster::get();
  kube::Client client(cluster.admin_config());
  testing::ScopedNamespace ns(client, "informer");
  cluster.kubectl("-n " + ns.name() + " create configmap before --from-literal=v=0");

  runtime::Informer informer(client, kube::resources::configmaps, runtime::InformerOptions{.ns = ns.name()});
  Recorder recorder;
  informer.add_handler(recorder.handler());
  informer.start();
  REQUIRE(informer.wait_for_sync(std::chrono::seconds(10)));
  CHECK(recorder.has("add before 0"));

  REQUIRE(cluster.kubectl("-n " + ns.name() + " create configmap a --from-literal=v=1").exit_code == 0);
  REQUIRE(cluster.kubectl("-n " + ns.name() + " patch configmap a --type merge -p '{\"data\":{\"v\":\"2\"}}'").exit_code == 0);
  REQUIRE(cluster.kubectl("-n " + ns.name() + " label configmap before touched=yes").exit_code == 0);
  REQUIRE(cluster.kubectl("-n " + ns.name() + " delete configmap before").exit_code == 0);

  CHECK(testing::eventually([&] { return recorder.has("delete before"); }, std::chrono::seconds(10)));
  CHECK(recorder.has("add a 1"));
  CHECK(recorder.has("update a 2"));
  CHECK(recorder.has("update before 0"));
  // Order per object is the order of the changes.
  {
    std::lock_guard lock(recorder.mutex);
    auto pos = [&](const std::string& e) { return std::find(recorder.log.begin(), recorder.log.end(), e); };
    CHECK(pos("add a 1") < pos("update a 2"));
    CHECK(pos("update before 0") < pos("delete before"));
  }
  CHECK(cache_view(informer) == server_view(client, ns.name()));
  // The cache drops managedFields: the controller never reads them.
  auto a = informer.store().get(ns.name() + "/a");
  REQUIRE(a);
  CHECK_FALSE((*a)["metadata"].contains("managedFields"));
  informer.stop();
}

TEST_CASE("After etcd compaction and an apiserver restart the informer relists and delivers what it missed",
          "[runtime][integration]") {
  const auto& cluster = TestCluster::get();
  kube::Client client(cluster.admin_config());
  testing::ScopedNamespace ns(client, "relist");
  for (const char* name : {"keep", "change", "remove"}) {
    REQUIRE(cluster.kubectl("-n " + ns.name() + " create configmap " + name + " --from-literal=v=1").exit_code == 0);
  }
  runtime::Informer informer(client, kube::resources::configmaps,
                             // Pages of 2: the lists page through continue tokens.
                             runtime::InformerOptions{.ns = ns.name(), .page_size = 2,
                                                      .initial_backoff = std::chrono::milliseconds(200)});
  Recorder recorder;
  informer.add_handler(recorder.handler());
  informer.start();
  REQUIRE(informer.wait_for_sync(std::chrono::seconds(10)));
  REQUIRE(testing::eventually([&] { return cache_view(informer) == server_view(client, ns.name()); }));
  informer.stop();  // disconnected: what happens now is unseen

  REQUIRE(cluster.kubectl("-n " + ns.name() + " patch configmap change --type merge -p '{\"data\":{\"v\":\"2\"}}'").exit_code == 0);
  REQUIRE(cluster.kubectl("-n " + ns.name() + " delete configmap remove").exit_code == 0);
  REQUIRE(cluster.kubectl("-n " + ns.name() + " create configmap new --from-literal=v=1").exit_code == 0);
  auto compact = cluster.harness("compact");
  REQUIRE(compact.exit_code == 0);
  auto restart = cluster.harness("restart-apiserver");
  INFO(restart.output);
  REQUIRE(restart.exit_code == 0);

  const auto lists_before = informer.stats().lists;
  informer.start();  // resumes from the old resourceVersion: the server answers 410
  CHECK(testing::eventually([&] { return informer.stats().lists > lists_before; }, std::chrono::seconds(20)));
  CHECK(testing::eventually([&] { return cache_view(informer) == server_view(client, ns.name()); },
                            std::chrono::seconds(20)));
  CHECK(recorder.has("update change 2"));
  CHECK(recorder.has("delete remove"));
  CHECK(recorder.has("add new 1"));
  CHECK(recorder.snapshot() == server_view(client, ns.name()));

  // And it keeps watching afterwards.
  REQUIRE(cluster.kubectl("-n " + ns.name() + " create configmap later --from-literal=v=9").exit_code == 0);
  CHECK(testing::eventually([&] { return recorder.has("add later 9"); }, std::chrono::seconds(10)));
  informer.stop();
}

TEST_CASE("A metadata-only informer with a transform caches only the labels it needs", "[runtime][integration]") {
  const auto& cluster = TestCluster::get();
  kube::Client client(cluster.admin_config());
  const std::string node = "informer-meta-node";
  REQUIRE(cluster.kubectl("delete node " + node + " --ignore-not-found").exit_code == 0);
  json object = {{"apiVersion", "v1"}, {"kind", "Node"},
                 {"metadata", {{"name", node}, {"labels", {{"nvidia.com/gpu.present", "true"},
                                                          {"unrelated.example/label", "x"}}}}}};
  client.create(kube::resources::nodes, object);

  runtime::InformerOptions options;
  options.metadata_only = true;
  options.label_selector = "nvidia.com/gpu.present";
  options.transform = [](json& o) {
    auto& labels = o["metadata"]["labels"];
    for (auto it = labels.begin(); it != labels.end();) {
      if (it.key().rfind("nvidia.com/", 0) == 0) ++it; else it = labels.erase(it);
    }
    o["metadata"].erase("annotations");
  };
  runtime::Informer informer(client, kube::resources::nodes, options);
  informer.start();
  REQUIRE(informer.wait_for_sync(std::chrono::seconds(10)));
  auto cached = informer.store().get(node);
  REQUIRE(cached);
  CHECK((*cached)["kind"] == "PartialObjectMetadata");
  CHECK_FALSE(cached->contains("status"));
  CHECK_FALSE(cached->contains("spec"));
  CHECK((*cached)["metadata"]["labels"] == json({{"nvidia.com/gpu.present", "true"}}));

  // Updates through the watch are transformed too.
  client.patch(kube::resources::nodes, {"", node, ""}, kube::PatchType::Merge,
               {{"metadata", {{"labels", {{"nvidia.com/gpu.count", "4"}, {"another.example/x", "y"}}}}}});
  CHECK(testing::eventually([&] {
    auto o = informer.store().get(node);
    return o && (*o)["metadata"]["labels"] == json({{"nvidia.com/gpu.present", "true"}, {"nvidia.com/gpu.count", "4"}});
  }, std::chrono::seconds(10)));
  informer.stop();
  client.remove(kube::resources::nodes, {"", node, ""});
}
