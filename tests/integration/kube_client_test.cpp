// The Kubernetes client against a real kube-apiserver + etcd.
#include <catch2/catch.hpp>

#include <atomic>
#include <fstream>
#include <set>
#include <thread>

#include "kube/client.hpp"
#include "support/test_cluster.hpp"

using namespace cpo;
using namespace cpo::kube;
using cpo::testing::TestCluster;
using json = nlohmann::json;

namespace {

// Empty labels are left out: an applied `labels: {}` is a field of its own that two
// field managers would fight over (as the operator's render also never writes one).
json configmap(const std::string& ns, const std::string& name, json data, json labels = json::object()) {
  json object = {{"apiVersion", "v1"}, {"kind", "ConfigMap"},
                 {"metadata", {{"name", name}, {"namespace", ns}}}, {"data", data}};
  if (!labels.empty()) object["metadata"]["labels"] = labels;
  return object;
}

const Resource widgets{"test.cpo.dev", "v1", "widgets", "Widget", true};

void ensure_widget_crd(Client& client) {
  json crd = json::parse(R"json({
    "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
    "metadata": {"name": "widgets.test.cpo.dev"},
    "spec": {"group": "test.cpo.dev", "scope": "Namespaced",
      "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "listKind": "WidgetList"},
      "versions": [{"name": "v1", "served": true, "storage": true,
        "subresources": {"status": {}},
        "schema": {"openAPIV3Schema": {"type": "object", "properties": {
          "spec": {"type": "object", "properties": {"size": {"type": "integer", "minimum": 1}}},
          "status": {"type": "object", "properties": {"phase": {"type": "string"}}}}}}}]}})json");
  client.apply(resources::customresourcedefinitions, crd, "cpo-tests");
  REQUIRE(testing::eventually([&] {
    auto got = client.get(resources::customresourcedefinitions, {"", "widgets.test.cpo.dev", ""});
    for (const auto& c : got["status"].value("conditions", json::array())) {
      if (c.value("type", "") == "Established" && c.value("status", "") == "True") return true;
    }
    return false;
  }));
}

}  // namespace

TEST_CASE("ConfigMap create, get, list, update, patch and delete", "[kube][integration]") {
  Client client(TestCluster::get().admin_config());
  testing::ScopedNamespace ns(client, "crud");

  json created = client.create(resources::configmaps, configmap(ns.name(), "one", {{"a", "1"}}, {{"app", "x"}}));
  CHECK(created["metadata"]["uid"].is_string());
  client.create(resources::configmaps, configmap(ns.name(), "two", {{"a", "2"}}, {{"app", "y"}}));

  json got = client.get(resources::configmaps, {ns.name(), "one", ""});
  CHECK(got["data"]["a"] == "1");

  json selected = client.list(resources::configmaps, ns.name(), ListOptions{.label_selector = "app=y"});
  REQUIRE(selected["items"].size() == 1);
  CHECK(selected["items"][0]["metadata"]["name"] == "two");

  got["data"]["a"] = "updated";
  json updated = client.update(resources::configmaps, got);
  CHECK(updated["data"]["a"] == "updated");
  CHECK(updated["metadata"]["resourceVersion"] != got["metadata"]["resourceVersion"]);

  client.patch(resources::configmaps, {ns.name(), "one", ""}, PatchType::Merge, {{"data", {{"b", "merge"}}}});
  client.patch(resources::configmaps, {ns.name(), "one", ""}, PatchType::Json,
               json::array({{{"op", "add"}, {"path", "/data/c"}, {"value", "json"}}}));
  client.patch(resources::configmaps, {ns.name(), "one", ""}, PatchType::StrategicMerge,
               {{"metadata", {{"labels", {{"patched", "yes"}}}}}});
  got = client.get(resources::configmaps, {ns.name(), "one", ""});
  CHECK(got["data"] == json({{"a", "updated"}, {"b", "merge"}, {"c", "json"}}));
  CHECK(got["metadata"]["labels"]["patched"] == "yes");

  try {
    client.create(resources::configmaps, configmap(ns.name(), "one", {}));
    FAIL("creating a duplicate must fail");
  } catch (const ApiError& e) {
    CHECK(e.is_already_exists());
    CHECK(e.message() == "configmaps \"one\" already exists");
  }

  try {
    client.create(resources::configmaps, configmap(ns.name(), "Bad_Name", {}));
    FAIL("an invalid name must be refused");
  } catch (const ApiError& e) {
    CHECK(e.is_invalid());
    REQUIRE_FALSE(e.causes().empty());
    CHECK(e.causes()[0].field == "metadata.name");
  }

  client.remove(resources::configmaps, {ns.name(), "one", ""});
  CHECK_FALSE(client.find(resources::configmaps, {ns.name(), "one", ""}));
  try {
    client.get(resources::configmaps, {ns.name(), "one", ""});
    FAIL("a deleted object must be NotFound");
  } catch (const ApiError& e) {
    CHECK(e.is_not_found());
    CHECK(e.code() == 404);
    CHECK(e.message() == "configmaps \"one\" not found");
  }
}

TEST_CASE("A stale update is a Conflict and delete preconditions are honoured", "[kube][integration]") {
  Client client(TestCluster::get().admin_config());
  testing::ScopedNamespace ns(client, "conflict");
  json first = client.create(resources::configmaps, configmap(ns.name(), "cm", {{"v", "1"}}));
  json newer = first;
  newer["data"]["v"] = "2";
  client.update(resources::configmaps, newer);

  json stale = first;
  stale["data"]["v"] = "stale";
  try {
    client.update(resources::configmaps, stale);
    FAIL("a stale resourceVersion must conflict");
  } catch (const ApiError& e) {
    CHECK(e.is_conflict());
    CHECK(e.code() == 409);
    CHECK(e.message().find("the object has been modified") != std::string::npos);
  }

  DeleteOptions wrong;
  wrong.precondition_uid = "00000000-0000-0000-0000-000000000000";
  CHECK_THROWS_MATCHES(client.remove(resources::configmaps, {ns.name(), "cm", ""}, wrong), ApiError,
                       Catch::Predicate<ApiError>([](const ApiError& e) { return e.is_conflict(); }));
  DeleteOptions right;
  right.precondition_uid = first["metadata"]["uid"];
  right.propagation_policy = "Background";
  client.remove(resources::configmaps, {ns.name(), "cm", ""}, right);
  CHECK_FALSE(client.find(resources::configmaps, {ns.name(), "cm", ""}));
}

TEST_CASE("Server-side apply tracks ownership per field manager", "[kube][integration]") {
  Client client(TestCluster::get().admin_config());
  testing::ScopedNamespace ns(client, "ssa");
  client.apply(resources::configmaps, configmap(ns.name(), "cm", {{"owned-by-a", "a"}, {"shared", "a"}}), "manager-a");
  // Another manager may add fields of its own without force.
  client.apply(resources::configmaps, configmap(ns.name(), "cm", {{"owned-by-b", "b"}}), "manager-b", false);

  // Changing a field manager-a owns conflicts unless forced.
  try {
    client.apply(resources::configmaps, configmap(ns.name(), "cm", {{"owned-by-b", "b"}, {"shared", "b"}}),
                 "manager-b", false);
    FAIL("an apply that changes another manager's field must conflict without force");
  } catch (const ApiError& e) {
    CHECK(e.is_conflict());
    CHECK(e.message().find("manager-a") != std::string::npos);
  }
  client.apply(resources::configmaps, configmap(ns.name(), "cm", {{"owned-by-b", "b"}, {"shared", "b"}}),
               "manager-b", true);

  // manager-a stops declaring its field: the server removes it; the field manager-b
  // took over stays.
  json result = client.apply(resources::configmaps, configmap(ns.name(), "cm", json::object()), "manager-a");
  CHECK(result["data"] == json({{"owned-by-b", "b"}, {"shared", "b"}}));
  std::set<std::string> managers;
  for (const auto& entry : result["metadata"]["managedFields"]) managers.insert(entry["manager"]);
  CHECK(managers.count("manager-b") == 1);
}

TEST_CASE("A custom resource: CRUD and the status subresource", "[kube][integration]") {
  Client client(TestCluster::get().admin_config());
  ensure_widget_crd(client);
  testing::ScopedNamespace ns(client, "crd");
  json widget = {{"apiVersion", "test.cpo.dev/v1"}, {"kind", "Widget"},
                 {"metadata", {{"name", "w"}, {"namespace", ns.name()}}}, {"spec", {{"size", 3}}}};
  json created = client.create(widgets, widget);
  CHECK(created["spec"]["size"] == 3);

  // Status goes through the status subresource only.
  created["status"] = {{"phase", "Ready"}};
  json after_main = client.update(widgets, created);
  CHECK_FALSE(after_main.contains("status"));
  after_main["status"] = {{"phase", "Ready"}};
  json after_status = client.update_status(widgets, after_main);
  CHECK(after_status["status"]["phase"] == "Ready");
  CHECK(client.get(widgets, {ns.name(), "w", "status"})["status"]["phase"] == "Ready");
  client.patch(widgets, {ns.name(), "w", "status"}, PatchType::Merge, {{"status", {{"phase", "Done"}}}});
  CHECK(client.get(widgets, {ns.name(), "w", ""})["status"]["phase"] == "Done");

  // The CRD's schema is enforced by the server.
  json invalid = widget;
  invalid["metadata"]["name"] = "tiny";
  invalid["spec"]["size"] = 0;
  CHECK_THROWS_MATCHES(client.create(widgets, invalid), ApiError,
                       Catch::Predicate<ApiError>([](const ApiError& e) {
                         return e.is_invalid() && e.message().find("spec.size") != std::string::npos;
                       }));
  client.remove(widgets, {ns.name(), "w", ""});
  CHECK(testing::eventually([&] { return !client.find(widgets, {ns.name(), "w", ""}); }));
}

TEST_CASE("Paginated lists and metadata-only reads", "[kube][integration]") {
  Client client(TestCluster::get().admin_config());
  testing::ScopedNamespace ns(client, "pages");
  for (int i = 0; i < 25; ++i) {
    client.create(resources::configmaps,
                  configmap(ns.name(), "cm-" + std::to_string(i), {{"big", std::string(1000, 'x')}}, {{"page", "yes"}}));
  }
  json page = client.list(resources::configmaps, ns.name(), ListOptions{.label_selector = "page=yes", .limit = 10});
  CHECK(page["items"].size() == 10);
  CHECK_FALSE(page["metadata"].value("continue", "").empty());
  json all = client.list_all(resources::configmaps, ns.name(), ListOptions{.label_selector = "page=yes", .limit = 10});
  CHECK(all["items"].size() == 25);

  json meta = client.list(resources::configmaps, ns.name(), ListOptions{.label_selector = "page=yes"}, true);
  CHECK(meta["kind"] == "PartialObjectMetadataList");
  REQUIRE(meta["items"].size() == 25);
  CHECK(meta["items"][0]["metadata"]["labels"]["page"] == "yes");
  CHECK_FALSE(meta["items"][0].contains("data"));
  json one = client.get(resources::configmaps, {ns.name(), "cm-0", ""}, ReadOptions{.metadata_only = true});
  CHECK(one["kind"] == "PartialObjectMetadata");
  CHECK_FALSE(one.contains("data"));
}

TEST_CASE("A watch sees create, update and delete in order", "[kube][integration]") {
  Client client(TestCluster::get().admin_config());
  testing::ScopedNamespace ns(client, "watch");
  json list = client.list(resources::configmaps, ns.name());
  std::string rv = list["metadata"]["resourceVersion"];
  auto watch = client.watch(resources::configmaps, ns.name(),
                            ListOptions{.resource_version = rv, .timeout_seconds = 60, .allow_watch_bookmarks = true});

  client.create(resources::configmaps, configmap(ns.name(), "w", {{"v", "1"}}));
  client.patch(resources::configmaps, {ns.name(), "w", ""}, PatchType::Merge, {{"data", {{"v", "2"}}}});
  client.remove(resources::configmaps, {ns.name(), "w", ""});

  std::vector<std::pair<WatchEventType, std::string>> seen;
  while (seen.size() < 3) {
    auto event = watch->next();
    REQUIRE(event);
    if (event->type == WatchEventType::Bookmark) continue;
    if (event->object["metadata"]["name"] != "w") continue;  // kube-root-ca.crt and the like
    seen.emplace_back(event->type, event->object["data"].value("v", ""));
  }
  CHECK(seen[0] == std::make_pair(WatchEventType::Added, std::string("1")));
  CHECK(seen[1] == std::make_pair(WatchEventType::Modified, std::string("2")));
  CHECK(seen[2].first == WatchEventType::Deleted);
}

TEST_CASE("Cancelling a blocked watch returns at once", "[kube][integration]") {
  Client client(TestCluster::get().admin_config());
  testing::ScopedNamespace ns(client, "cancel");
  auto watch = client.watch(resources::configmaps, ns.name(), ListOptions{.timeout_seconds = 300});
  std::atomic<bool> returned{false};
  auto started = std::chrono::steady_clock::now();
  std::thread reader([&] {
    while (watch->next()) {
    }
    returned = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  CHECK_FALSE(returned.load());
  watch->cancel();
  reader.join();
  CHECK(returned.load());
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(5));
}

TEST_CASE("A watch from a compacted resourceVersion yields 410 Gone", "[kube][integration]") {
  const auto& cluster = TestCluster::get();
  Client client(cluster.admin_config());
  testing::ScopedNamespace ns(client, "gone");
  json cm = client.create(resources::configmaps, configmap(ns.name(), "c", {{"v", "0"}}));
  std::string old_rv = cm["metadata"]["resourceVersion"];
  for (int i = 1; i <= 5; ++i) {
    client.patch(resources::configmaps, {ns.name(), "c", ""}, PatchType::Merge,
                 {{"data", {{"v", std::to_string(i)}}}});
  }
  auto compact = cluster.harness("compact");
  INFO(compact.output);
  REQUIRE(compact.exit_code == 0);
  // The apiserver's watch cache still holds recent history after an etcd
  // compaction; a restart rebuilds it from the current revision, so the old
  // resourceVersion is then gone from both.
  auto restart = cluster.harness("restart-apiserver");
  INFO(restart.output);
  REQUIRE(restart.exit_code == 0);

  bool gone = false;
  std::string message;
  try {
    auto watch = client.watch(resources::configmaps, ns.name(),
                              ListOptions{.resource_version = old_rv, .timeout_seconds = 5});
    while (auto event = watch->next()) {
      UNSCOPED_INFO("event " << to_string(event->type) << " " << event->object.dump().substr(0, 200));
      if (event->type == WatchEventType::Error) {
        ApiError e = error_from_status(event->object);
        gone = e.is_gone();
        message = e.message();
        break;
      }
    }
  } catch (const ApiError& e) {
    // Some servers answer 410 before streaming instead of with an ERROR event.
    gone = e.is_gone();
    message = e.message();
  }
  CHECK(gone);
  CHECK(message.find("too old resource version") != std::string::npos);
}

TEST_CASE("TLS: the apiserver's CA verifies, a wrong CA or name fails", "[kube][integration]") {
  const auto& cluster = TestCluster::get();
  ClusterConfig good = cluster.admin_config();
  REQUIRE_FALSE(good.ca_pem.empty());
  REQUIRE_FALSE(good.insecure_skip_tls_verify);
  CHECK(Client(good).get(resources::namespaces, {"", "default", ""})["metadata"]["name"] == "default");

  // A self-signed CA of our own making signs nothing the server presents.
  auto dir = cluster.dir() / "tls-test";
  std::filesystem::create_directories(dir);
  auto made = testing::run_command(
      "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=wrong-ca -keyout " +
      testing::shell_quote((dir / "ca.key").string()) + " -out " + testing::shell_quote((dir / "ca.crt").string()));
  INFO(made.output);
  REQUIRE(made.exit_code == 0);
  std::ifstream in(dir / "ca.crt");
  ClusterConfig wrong_ca = good;
  wrong_ca.ca_pem.assign(std::istreambuf_iterator<char>(in), {});
  CHECK_THROWS_WITH(Client(wrong_ca).get(resources::namespaces, {"", "default", ""}),
                    Catch::Contains("certificate verify failed"));

  // The right CA but a name the certificate does not carry.
  ClusterConfig wrong_name = good;
  wrong_name.tls_server_name = "not-the-apiserver.example";
  CHECK_THROWS_WITH(Client(wrong_name).get(resources::namespaces, {"", "default", ""}),
                    Catch::Contains("certificate verify failed"));

  // Explicitly insecure connects without verifying.
  ClusterConfig insecure = wrong_ca;
  insecure.insecure_skip_tls_verify = true;
  CHECK(Client(insecure).get(resources::namespaces, {"", "default", ""})["metadata"]["name"] == "default");

  ClusterConfig garbage = good;
  garbage.ca_pem = "not a certificate";
  CHECK_THROWS_AS(Client{garbage}, ConfigError);
}

TEST_CASE("RBAC: an identity without permission gets Forbidden with the server's message", "[kube][integration]") {
  const auto& cluster = TestCluster::get();
  Client as_operator(load_kubeconfig(cluster.identity_kubeconfig("gpu-operator", "gpu-operator")));
  try {
    as_operator.list(resources::secrets, "kube-system");
    FAIL("listing secrets without a binding must be forbidden");
  } catch (const ApiError& e) {
    CHECK(e.is_forbidden());
    CHECK(e.code() == 403);
    CHECK(e.message().find("system:serviceaccount:gpu-operator:gpu-operator") != std::string::npos);
    CHECK(e.message().find("cannot list resource \"secrets\"") != std::string::npos);
  }
  ClusterConfig bad_token = cluster.admin_config();
  bad_token.token = "not-a-token";
  CHECK_THROWS_MATCHES(Client(bad_token).list(resources::secrets, "kube-system"), ApiError,
                       Catch::Predicate<ApiError>([](const ApiError& e) { return e.kind() == ErrorKind::Unauthorized; }));
}

TEST_CASE("Many requests in flight share a bounded pool of connections", "[kube][integration]") {
  std::atomic<int> observed{0};
  ClientOptions options;
  options.observer = [&](std::string_view method, std::string_view code, std::chrono::duration<double>) {
    if (method == "GET" && code == "200") ++observed;
  };
  Client client(TestCluster::get().admin_config(), options);
  testing::ScopedNamespace ns(client, "parallel");
  client.create(resources::configmaps, configmap(ns.name(), "shared", {{"v", "1"}}));
  constexpr int kThreads = 8;
  constexpr int kEach = 25;
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kEach; ++i) {
        if (client.get(resources::configmaps, {ns.name(), "shared", ""})["data"]["v"] == "1") ++ok;
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(ok == kThreads * kEach);
  CHECK(observed == kThreads * kEach);
  auto stats = client.transport_stats();
  CHECK(stats.connections_opened <= std::size_t(kThreads + 1));  // keep-alive reuse, not one per request
  CHECK(stats.idle_connections >= 1);
}

TEST_CASE("Pooled connections the API server closed are not reused: a PATCH after its restart goes through",
          "[kube][integration][fault]") {
  const TestCluster& cluster = TestCluster::get();
  Client client(cluster.admin_config());
  testing::ScopedNamespace ns(client, "restart");
  client.create(resources::configmaps, configmap(ns.name(), "kept", {{"v", "1"}}));
  // Several idle connections in the pool, all to the server about to die.
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] { client.get(resources::configmaps, {ns.name(), "kept", ""}); });
  }
  for (auto& t : threads) t.join();
  REQUIRE(client.transport_stats().idle_connections >= 1);
  auto restarted = cluster.harness("restart-apiserver", "--kill");
  INFO(restarted.output);
  REQUIRE(restarted.exit_code == 0);
  // A PATCH is not retried on a connection that broke after it was sent (it may have
  // been applied): it must go out on a live connection in the first place.
  auto patched = client.patch(resources::configmaps, {ns.name(), "kept", ""}, PatchType::Merge, {{"data", {{"v", "2"}}}});
  CHECK(patched["data"]["v"] == "2");
}
