// The informer's list-and-watch loop against a scripted API server: how it paces
// watches the server ends at once, and how it lists when a continue token expires.
#include <catch2/catch.hpp>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

#include "kube/client.hpp"
#include "runtime/informer.hpp"

using namespace cpo;
using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

kube::HttpResponse answer(int code, const json& body) {
  kube::HttpResponse response;
  response.status = code;
  response.body = body.dump();
  return response;
}

json config_map(const std::string& name, const std::string& rv) {
  return {{"metadata", {{"name", name}, {"namespace", "ops"}, {"resourceVersion", rv}}}};
}

// A watch body: the given events, then either the end of the stream or silence
// until cancelled.
class ScriptedBody final : public kube::BodyStream {
 public:
  ScriptedBody(std::string events, bool end) : events_(std::move(events)), end_(end) { head_.status = 200; }
  const kube::HttpResponse& head() const override { return head_; }
  std::optional<std::string> read_some(std::chrono::milliseconds) override {
    if (!events_.empty()) return std::exchange(events_, "");
    if (end_) return std::nullopt;
    std::unique_lock lock(mutex_);
    cv_.wait(lock, [this] { return cancelled_; });
    return std::nullopt;
  }
  void cancel() override {
    {
      std::lock_guard lock(mutex_);
      cancelled_ = true;
    }
    cv_.notify_all();
  }

 private:
  kube::HttpResponse head_;
  std::string events_;
  bool end_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool cancelled_ = false;
};

// Lists are answered by `list`, watches by `watch`; both count their requests.
class ScriptedServer final : public kube::Transport {
 public:
  std::function<kube::HttpResponse(const kube::HttpRequest&)> list;
  std::function<std::unique_ptr<kube::BodyStream>(const kube::HttpRequest&)> watch;
  std::atomic<int> lists = 0;
  std::atomic<int> watches = 0;

  kube::HttpResponse send(const kube::HttpRequest& request) override {
    ++lists;
    return list(request);
  }
  std::unique_ptr<kube::BodyStream> open(const kube::HttpRequest& request) override {
    ++watches;
    return watch(request);
  }
  kube::TransportStats stats() const override { return {}; }
};

struct Fixture {
  Fixture() {
    kube::ClusterConfig config;
    config.server = "http://fake";
    auto transport = std::make_unique<ScriptedServer>();
    server = transport.get();
    client = std::make_unique<kube::Client>(config, std::move(transport));
  }
  ScriptedServer* server;
  std::unique_ptr<kube::Client> client;
};

bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout = 10s) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

}  // namespace

TEST_CASE("a watch the server ends at once without events is retried with backoff, not in a loop",
          "[informer]") {
  Fixture f;
  f.server->list = [](const kube::HttpRequest&) {
    return answer(200, {{"metadata", {{"resourceVersion", "5"}}}, {"items", json::array()}});
  };
  f.server->watch = [](const kube::HttpRequest&) { return std::make_unique<ScriptedBody>("", true); };
  // A backoff far longer than the test: a second watch can only come from a retry
  // that skipped it.
  runtime::Informer informer(*f.client, kube::resources::configmaps,
                             {.ns = "ops", .initial_backoff = 10min, .max_backoff = 10min});
  informer.start();
  REQUIRE(informer.wait_for_sync(10s));
  REQUIRE(eventually([&] { return f.server->watches >= 1; }));
  std::this_thread::sleep_for(300ms);
  CHECK(f.server->watches == 1);
  CHECK(f.server->lists == 1);
  informer.stop();  // wakes the backoff at once
}

TEST_CASE("a watch that delivered events is re-opened at once when the server ends it", "[informer]") {
  Fixture f;
  f.server->list = [](const kube::HttpRequest&) {
    return answer(200, {{"metadata", {{"resourceVersion", "5"}}}, {"items", json::array()}});
  };
  std::atomic<int> opened = 0;
  f.server->watch = [&](const kube::HttpRequest&) -> std::unique_ptr<kube::BodyStream> {
    int n = ++opened;
    if (n == 1) {
      json added = {{"type", "ADDED"}, {"object", config_map("a", "6")}};
      return std::make_unique<ScriptedBody>(added.dump() + "\n", true);
    }
    return std::make_unique<ScriptedBody>("", false);  // stays open until stopped
  };
  runtime::Informer informer(*f.client, kube::resources::configmaps,
                             {.ns = "ops", .initial_backoff = 10min, .max_backoff = 10min});
  informer.start();
  CHECK(eventually([&] { return opened >= 2; }));  // no 10 min backoff in between
  CHECK(informer.store().get("ops/a") != nullptr);
  CHECK(informer.stats().resource_version == "6");
  informer.stop();
}

TEST_CASE("an expired continue token during a paged list falls back to one full list", "[informer]") {
  Fixture f;
  std::atomic<int> first_pages = 0, continued = 0, unpaged = 0;
  f.server->list = [&](const kube::HttpRequest& request) {
    const std::string& target = request.target;
    if (target.find("continue=") != std::string::npos) {
      ++continued;
      return answer(410, {{"kind", "Status"},
                          {"apiVersion", "v1"},
                          {"status", "Failure"},
                          {"code", 410},
                          {"reason", "Expired"},
                          {"message", "The provided continue parameter is too old"}});
    }
    if (target.find("limit=") != std::string::npos) {
      ++first_pages;
      return answer(200, {{"metadata", {{"resourceVersion", "7"}, {"continue", "token"}}},
                          {"items", json::array({config_map("a", "3")})}});
    }
    ++unpaged;
    return answer(200, {{"metadata", {{"resourceVersion", "9"}}},
                        {"items", json::array({config_map("a", "3"), config_map("b", "8")})}});
  };
  f.server->watch = [](const kube::HttpRequest&) { return std::make_unique<ScriptedBody>("", false); };
  std::atomic<int> adds = 0;
  runtime::Informer informer(*f.client, kube::resources::configmaps, {.ns = "ops", .page_size = 1});
  informer.add_handler({.on_add = [&](const runtime::ObjectPtr&) { ++adds; }});
  informer.start();
  REQUIRE(informer.wait_for_sync(10s));
  CHECK(informer.store().size() == 2);
  CHECK(adds == 2);  // the page read before the token expired is not delivered twice
  CHECK(informer.stats().resource_version == "9");
  CHECK(first_pages == 1);
  CHECK(continued == 1);
  CHECK(unpaged == 1);
  informer.stop();
}
