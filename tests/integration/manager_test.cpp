// The manager against a real apiserver: /readyz follows the caches, /metrics is
// valid Prometheus text with the controller-runtime metric names, a controller
// reconciles what its informer sees, and a stop shuts everything down in order.
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "kube/http.hpp"
#include "runtime/manager.hpp"
#include "support/test_cluster.hpp"

using namespace cpo;
using cpo::testing::TestCluster;
using json = nlohmann::json;

namespace {

kube::HttpResponse http_get(unsigned short port, const std::string& path) { return testing::local_http_get(port, path); }

// Checks the Prometheus text exposition format line by line; returns the sample
// names seen. Fails the test on the first malformed line.
std::set<std::string> parse_prometheus_text(const std::string& text) {
  static const std::regex sample(
      R"re(^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*")(,[a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*")*,?\})? (-?[0-9.eE+-]+|[+-]Inf|NaN)( -?[0-9]+)?$)re");
  static const std::regex help(R"(^# HELP [a-zA-Z_:][a-zA-Z0-9_:]* .*$)");
  static const std::regex type(R"(^# TYPE [a-zA-Z_:][a-zA-Z0-9_:]* (counter|gauge|histogram|summary|untyped)$)");
  std::set<std::string> names;
  std::istringstream in(text);
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (line.empty()) continue;
    std::smatch m;
    if (line.rfind("# HELP", 0) == 0) {
      INFO("line " << number << ": " << line);
      REQUIRE(std::regex_match(line, help));
    } else if (line.rfind("# TYPE", 0) == 0) {
      INFO("line " << number << ": " << line);
      REQUIRE(std::regex_match(line, type));
    } else {
      INFO("line " << number << ": " << line);
      REQUIRE(std::regex_match(line, m, sample));
      names.insert(m[1]);
    }
  }
  return names;
}

}  // namespace

TEST_CASE("Manager: readyz follows the caches and metrics are Prometheus text", "[runtime][integration]") {
  const auto& cluster = TestCluster::get();
  kube::Client admin(cluster.admin_config());
  testing::ScopedNamespace ns(admin, "manager");

  // The operator's identity has no permissions yet: its informer cannot sync.
  runtime::Metrics metrics;
  kube::ClientOptions client_options;
  client_options.observer = metrics.rest_observer("test");
  kube::Client as_operator(kube::load_kubeconfig(cluster.identity_kubeconfig("gpu-operator", "gpu-operator")),
                           client_options);
  runtime::ManagerOptions options;
  options.health_address = {"127.0.0.1", 0, false};
  options.metrics_address = {"127.0.0.1", 0, false};
  options.graceful_shutdown = std::chrono::seconds(5);
  runtime::Manager manager(as_operator, options, metrics);
  auto& informer = manager.add_informer(
      kube::resources::configmaps,
      runtime::InformerOptions{.ns = ns.name(), .initial_backoff = std::chrono::milliseconds(100),
                               .max_backoff = std::chrono::milliseconds(500)});
  std::mutex seen_mutex;
  std::set<std::string> reconciled;
  auto& controller = manager.add_controller("configmaps", [&](const std::string& key) {
    std::lock_guard lock(seen_mutex);
    reconciled.insert(key);
    return runtime::ReconcileResult::done();
  });
  informer.add_handler({[&](const runtime::ObjectPtr& o) { controller.queue().add(runtime::object_key(*o)); },
                        [&](const runtime::ObjectPtr&, const runtime::ObjectPtr& o) {
                          controller.queue().add(runtime::object_key(*o));
                        },
                        [&](const runtime::ObjectPtr& o) { controller.queue().add(runtime::object_key(*o)); }});

  std::stop_source stop;
  std::atomic<int> exit_code{-1};
  std::thread runner([&] { exit_code = manager.run(stop.get_token()); });
  REQUIRE(testing::eventually([&] { return manager.probes().health_port() != 0; }, std::chrono::seconds(5)));
  const auto port = manager.probes().health_port();

  CHECK(http_get(port, "/healthz").body == "ok");
  auto not_ready = http_get(port, "/readyz");
  CHECK(not_ready.status == 500);
  CHECK(not_ready.body.find("[-]manager failed: the cache of configmaps has not synced yet") != std::string::npos);

  // Grant read access: the informer's retry syncs and readiness flips.
  REQUIRE(cluster.kubectl("-n " + ns.name() + " create role cm-reader --verb=get,list,watch --resource=configmaps").exit_code == 0);
  REQUIRE(cluster.kubectl("-n " + ns.name() + " create rolebinding cm-reader --role=cm-reader "
                          "--serviceaccount=gpu-operator:gpu-operator").exit_code == 0);
  CHECK(testing::eventually([&] { return http_get(port, "/readyz").status == 200; }, std::chrono::seconds(20)));
  CHECK(http_get(port, "/readyz?verbose").body.find("[+]manager ok") != std::string::npos);

  admin.create(kube::resources::configmaps, {{"metadata", {{"name", "watched"}, {"namespace", ns.name()}}}});
  CHECK(testing::eventually([&] {
    std::lock_guard lock(seen_mutex);
    return reconciled.count(ns.name() + "/watched") == 1;
  }, std::chrono::seconds(10)));

  auto scrape = http_get(manager.probes().metrics_port(), "/metrics");
  REQUIRE(scrape.status == 200);
  CHECK(scrape.header("content-type").find("text/plain; version=0.0.4") == 0);
  auto names = parse_prometheus_text(scrape.body);
  for (const char* expected :
       {"controller_runtime_reconcile_total", "controller_runtime_reconcile_errors_total",
        "controller_runtime_reconcile_time_seconds_bucket", "workqueue_depth", "workqueue_adds_total",
        "workqueue_retries_total", "workqueue_work_duration_seconds_count", "rest_client_requests_total",
        "process_resident_memory_bytes", "process_cpu_seconds_total"}) {
    INFO(expected);
    CHECK(names.count(expected) == 1);
  }
  // Without leader election there is no lease to report on (not a misleading 0).
  CHECK(names.count("leader_election_master_status") == 0);
  CHECK(scrape.body.find("controller_runtime_reconcile_total{controller=\"configmaps\",result=\"success\"}") !=
        std::string::npos);
  CHECK(std::regex_search(scrape.body, std::regex(R"(rest_client_requests_total\{code="403",host="test",method="GET"\} [1-9])")));
  CHECK(http_get(manager.probes().metrics_port(), "/healthz").status == 404);  // metrics port serves metrics only

  stop.request_stop();
  runner.join();
  CHECK(exit_code == 0);
}

TEST_CASE("Manager: a standby replica is ready and takes over when the leader releases", "[runtime][integration]") {
  const auto& cluster = TestCluster::get();
  kube::Client admin(cluster.admin_config());
  testing::ScopedNamespace ns(admin, "standby");
  auto make_options = [&](const std::string& identity) {
    runtime::ManagerOptions options;
    options.leader_elect = true;
    options.lease.lease_namespace = ns.name();
    options.lease.lease_name = "manager-test";
    options.lease.identity = identity;
    options.health_address = {"127.0.0.1", 0, false};
    options.metrics_address = {"", 0, true};
    return options;
  };
  runtime::Metrics metrics_a, metrics_b;
  kube::Client client_a(cluster.admin_config()), client_b(cluster.admin_config());
  runtime::Manager a(client_a, make_options("replica-a"), metrics_a);
  a.add_controller("c", [](const std::string&) { return runtime::ReconcileResult::done(); });
  std::stop_source stop_a, stop_b;
  std::atomic<int> exit_a{-1}, exit_b{-1};
  std::thread run_a([&] { exit_a = a.run(stop_a.get_token()); });
  REQUIRE(testing::eventually([&] { return a.is_leader(); }, std::chrono::seconds(10)));

  runtime::Manager b(client_b, make_options("replica-b"), metrics_b);
  std::thread run_b([&] { exit_b = b.run(stop_b.get_token()); });
  REQUIRE(testing::eventually([&] { return b.probes().health_port() != 0; }, std::chrono::seconds(5)));
  // Standing by with a leader in sight is healthy and ready.
  CHECK(testing::eventually([&] { return http_get(b.probes().health_port(), "/readyz").status == 200; },
                            std::chrono::seconds(10)));
  CHECK_FALSE(b.is_leader());
  const std::regex master_status(R"(leader_election_master_status\{name="manager-test"\} 1\b)");
  const std::regex backup_status(R"(leader_election_master_status\{name="manager-test"\} 0\b)");
  CHECK(std::regex_search(metrics_a.serialize(), master_status));
  CHECK(std::regex_search(metrics_b.serialize(), backup_status));

  const auto released = std::chrono::steady_clock::now();
  stop_a.request_stop();
  run_a.join();
  CHECK(exit_a == 0);
  CHECK(testing::eventually([&] { return b.is_leader(); }, std::chrono::seconds(10)));
  CHECK(std::chrono::steady_clock::now() - released < std::chrono::seconds(8));  // far below the 15 s lease
  stop_b.request_stop();
  run_b.join();
  CHECK(exit_b == 0);
}

namespace {

// A kind the API server does not serve: every list is a 404, so its cache never syncs.
const kube::Resource kUnserved{"example.invalid", "v1", "widgets", "Widget", true};

}  // namespace

TEST_CASE("Manager: a stop while the caches sync ends run() at once", "[runtime][integration]") {
  const auto& cluster = TestCluster::get();
  kube::Client admin(cluster.admin_config());
  testing::ScopedNamespace ns(admin, "syncstop");
  runtime::Metrics metrics;
  runtime::ManagerOptions options;
  options.health_address = {"", 0, true};
  options.metrics_address = {"", 0, true};
  options.cache_sync_timeout = std::chrono::seconds(60);
  runtime::Manager manager(admin, options, metrics);
  auto& informer = manager.add_informer(
      kUnserved, runtime::InformerOptions{.ns = ns.name(), .initial_backoff = std::chrono::milliseconds(100),
                                          .max_backoff = std::chrono::milliseconds(500)});
  std::atomic<int> reconciles{0};
  manager.add_controller("never", [&](const std::string&) {
    ++reconciles;
    return runtime::ReconcileResult::done();
  });

  std::stop_source stop;
  std::atomic<int> exit_code{-1};
  std::atomic<bool> returned{false};
  std::thread runner([&] {
    exit_code = manager.run(stop.get_token());
    returned = true;
  });
  // The informer's list has failed at least once: run() is waiting for the cache.
  REQUIRE(testing::eventually([&] { return informer.stats().errors >= 1; }, std::chrono::seconds(20)));
  const auto asked = std::chrono::steady_clock::now();
  stop.request_stop();
  // Far below the 60 s cache sync timeout run() used to wait out.
  bool prompt = testing::eventually([&] { return returned.load(); }, std::chrono::seconds(20));
  CHECK(prompt);
  runner.join();
  std::cout << "manager: run() returned " << std::chrono::duration<double>(std::chrono::steady_clock::now() - asked).count()
            << " s after the stop" << std::endl;
  CHECK(exit_code == 0);  // a requested stop, not a failure to sync
  CHECK(reconciles == 0);
}

TEST_CASE("Manager: losing the lease while the caches sync exits at once and starts no controller",
          "[runtime][integration]") {
  const auto& cluster = TestCluster::get();
  kube::Client admin(cluster.admin_config());
  testing::ScopedNamespace ns(admin, "synclost");
  const std::string lease = "sync-lost";
  char marker_template[] = "/tmp/manager-sync-lost-XXXXXX";
  int marker_fd = mkstemp(marker_template);
  REQUIRE(marker_fd >= 0);
  close(marker_fd);
  const std::string marker = marker_template;  // the child writes here when a controller starts work

  // Losing the lease ends the process (std::_Exit(1)), so the manager runs in a
  // child process. Nothing else runs threads in this test process yet.
  pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    try {
      kube::Client client(cluster.admin_config());
      runtime::Metrics metrics;
      runtime::ManagerOptions options;
      options.leader_elect = true;
      options.lease.lease_namespace = ns.name();
      options.lease.lease_name = lease;
      options.lease.identity = "syncing";
      options.health_address = {"", 0, true};
      options.metrics_address = {"", 0, true};
      options.cache_sync_timeout = std::chrono::seconds(120);
      runtime::Manager manager(client, options, metrics);
      manager.add_informer(kUnserved, runtime::InformerOptions{.ns = ns.name()});
      auto& controller = manager.add_controller("marker", [&](const std::string&) {
        FILE* out = std::fopen(marker.c_str(), "a");
        if (out) {
          std::fputs("reconciled\n", out);
          std::fclose(out);
        }
        return runtime::ReconcileResult::done();
      });
      controller.queue().add("any");
      int code = manager.run(std::stop_token{});
      _exit(code == 0 ? 10 : 11);  // run() returned: the lease loss went unnoticed
    } catch (...) {
      _exit(12);
    }
  }

  auto holder = [&] {
    auto found = admin.find(kube::resources::leases, {ns.name(), lease, ""});
    return found ? found->value("spec", json::object()).value("holderIdentity", "") : "";
  };
  bool acquired = testing::eventually([&] { return holder() == "syncing"; }, std::chrono::seconds(30));
  if (!acquired) kill(child, SIGKILL);
  REQUIRE(acquired);

  // Another replica takes the lease over (as after a partition); the child sees it
  // at its next renewal, within a retry period (2 s).
  bool stolen = false;
  for (int attempt = 0; attempt < 5 && !stolen; ++attempt) {
    json taken = admin.get(kube::resources::leases, {ns.name(), lease, ""});
    taken["spec"]["holderIdentity"] = "thief";
    try {
      admin.update(kube::resources::leases, taken);
      stolen = true;
    } catch (const kube::ApiError& e) {
      if (!e.is_conflict()) throw;  // a renewal came in between: read again
    }
  }
  if (!stolen) kill(child, SIGKILL);
  REQUIRE(stolen);
  const auto stolen_at = std::chrono::steady_clock::now();

  int status = 0;
  bool exited = testing::eventually([&] { return waitpid(child, &status, WNOHANG) == child; },
                                    std::chrono::seconds(30));
  if (!exited) {
    kill(child, SIGKILL);
    waitpid(child, &status, 0);
  }
  std::cout << "manager: exited " << std::chrono::duration<double>(std::chrono::steady_clock::now() - stolen_at).count()
            << " s after losing the lease" << std::endl;
  CHECK(exited);  // not after the 120 s cache sync timeout
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 1);
  std::ifstream written(marker);
  std::string contents((std::istreambuf_iterator<char>(written)), {});
  CHECK(contents.empty());  // no controller ever ran
  std::remove(marker.c_str());
}

TEST_CASE("Manager: controllers that watch the same thing share one informer", "[runtime][integration]") {
  const auto& cluster = TestCluster::get();
  kube::Client admin(cluster.admin_config());
  testing::ScopedNamespace ns(admin, "manager-shared");
  runtime::Metrics metrics;
  runtime::ManagerOptions options;
  options.health_address = {"127.0.0.1", 0, false};
  options.metrics_address = {"127.0.0.1", 0, false};
  runtime::Manager manager(admin, options, metrics);

  auto slim = [](nlohmann::json& object) { object.erase("data"); };
  runtime::InformerOptions named{.ns = ns.name(), .transform = slim, .transform_name = "no-data"};
  auto& first = manager.add_informer(kube::resources::configmaps, named);
  auto& second = manager.add_informer(kube::resources::configmaps, named);
  CHECK(&first == &second);
  // Anything that changes what is watched or cached is a watch of its own.
  CHECK(&manager.add_informer(kube::resources::configmaps, {.ns = ns.name()}) != &first);
  CHECK(&manager.add_informer(kube::resources::configmaps, {.ns = ns.name(), .label_selector = "a=b"}) != &first);
  CHECK(&manager.add_informer(kube::resources::configmaps, {.ns = ns.name(), .transform = slim}) != &first);
  CHECK(&manager.add_informer(kube::resources::secrets, named) != &first);

  // Both registrations' handlers see the one watch's events.
  std::atomic<int> seen_first{0}, seen_second{0};
  auto counting = [](std::atomic<int>& seen) {
    return runtime::EventHandler{[&seen](const runtime::ObjectPtr& o) { seen += (*o)["metadata"]["name"] == "shared"; },
                                 [](const runtime::ObjectPtr&, const runtime::ObjectPtr&) {},
                                 [](const runtime::ObjectPtr&) {}};
  };
  first.add_handler(counting(seen_first));
  second.add_handler(counting(seen_second));
  std::stop_source stop;
  std::thread runner([&] { manager.run(stop.get_token()); });
  admin.create(kube::resources::configmaps,
               {{"metadata", {{"name", "shared"}, {"namespace", ns.name()}}}, {"data", {{"k", "v"}}}});
  CHECK(testing::eventually([&] { return seen_first == 1 && seen_second == 1; }, std::chrono::seconds(10)));
  CHECK_FALSE(first.store().get(ns.name() + "/shared")->contains("data"));
  stop.request_stop();
  runner.join();
}
