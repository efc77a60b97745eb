// The client and a server that asks it to wait: a 429 or 5xx with Retry-After is
// sent again after the wait, up to ten times, as client-go does; anything else, a
// wait too long to hold a worker for, or the eleventh refusal goes to the caller.
#include <catch2/catch.hpp>

#include <deque>
#include <mutex>

#include "kube/client.hpp"
#include "kube/http.hpp"

using namespace cpo;
using namespace std::chrono_literals;

namespace {

kube::HttpResponse answer(int status, const std::string& retry_after = {}) {
  kube::HttpResponse r;
  r.status = status;
  if (!retry_after.empty()) r.headers["retry-after"] = retry_after;
  r.body = status == 200 ? R"({"kind":"ConfigMap","metadata":{"name":"x"}})"
                         : R"({"kind":"Status","status":"Failure","reason":"TooManyRequests","code":)" +
                               std::to_string(status) + "}";
  return r;
}

class OpenedStream : public kube::BodyStream {
 public:
  explicit OpenedStream(kube::HttpResponse head) : head_(std::move(head)) {}
  const kube::HttpResponse& head() const override { return head_; }
  std::optional<std::string> read_some(std::chrono::milliseconds) override { return std::nullopt; }
  void cancel() override {}

 private:
  kube::HttpResponse head_;
};

// Answers each request with the next scripted response (the last one repeats) and
// counts the requests.
class ScriptedTransport : public kube::Transport {
 public:
  ScriptedTransport(std::deque<kube::HttpResponse> script, int* sent) : script_(std::move(script)), sent_(sent) {}
  kube::HttpResponse send(const kube::HttpRequest&) override { return next(); }
  std::unique_ptr<kube::BodyStream> open(const kube::HttpRequest&) override {
    return std::make_unique<OpenedStream>(next());
  }
  kube::TransportStats stats() const override { return {}; }

 private:
  kube::HttpResponse next() {
    std::lock_guard lock(mutex_);
    ++*sent_;
    kube::HttpResponse r = script_.front();
    if (script_.size() > 1) script_.pop_front();
    return r;
  }
  std::mutex mutex_;
  std::deque<kube::HttpResponse> script_;
  int* sent_;
};

kube::Client client_with(std::deque<kube::HttpResponse> script, int* sent) {
  kube::ClusterConfig config;
  config.server = "http://127.0.0.1:1";
  config.use_tls = false;
  config.host = "127.0.0.1";
  config.port = "1";
  return kube::Client(config, std::make_unique<ScriptedTransport>(std::move(script), sent));
}

const kube::ObjectRef kRef{"default", "x", ""};

}  // namespace

TEST_CASE("answers asking to wait are sent again, answers that do not are not", "[client][retry]") {
  struct Case {
    std::string name;
    std::deque<kube::HttpResponse> script;
    bool succeeds;
    int requests;
  };
  const std::vector<Case> cases = {
      {"429 with Retry-After, then 200", {answer(429, "0"), answer(429, "0"), answer(200)}, true, 3},
      {"503 with Retry-After, then 200", {answer(503, "0"), answer(200)}, true, 2},
      {"500 without Retry-After", {answer(500), answer(200)}, false, 1},
      {"429 without Retry-After", {answer(429), answer(200)}, false, 1},
      {"404 with Retry-After", {answer(404, "0"), answer(200)}, false, 1},
      {"429 whose Retry-After is no number", {answer(429, "soon"), answer(200)}, false, 1},
      {"Retry-After longer than a worker is held", {answer(429, "120"), answer(200)}, false, 1},
      {"refused eleven times", {answer(429, "0")}, false, 11},
  };
  for (const auto& c : cases) {
    SECTION(c.name) {
      int sent = 0;
      auto client = client_with(c.script, &sent);
      if (c.succeeds) {
        CHECK(client.get(kube::resources::configmaps, kRef)["metadata"]["name"] == "x");
      } else {
        CHECK_THROWS_AS(client.get(kube::resources::configmaps, kRef), kube::ApiError);
      }
      CHECK(sent == c.requests);
    }
  }
}

TEST_CASE("the error of a refusal the client does not wait out carries the server's wait", "[client][retry]") {
  int sent = 0;
  auto client = client_with({answer(429, "120")}, &sent);
  try {
    client.patch(kube::resources::configmaps, kRef, kube::PatchType::Merge, {{"data", {{"a", "b"}}}});
    FAIL("no error");
  } catch (const kube::ApiError& e) {
    CHECK(e.kind() == kube::ErrorKind::TooManyRequests);
    REQUIRE(e.retry_after());
    CHECK(*e.retry_after() == 120s);
  }
}

TEST_CASE("the client waits as long as the server asked before sending again", "[client][retry]") {
  int sent = 0;
  auto client = client_with({answer(429, "1"), answer(200)}, &sent);
  const auto started = std::chrono::steady_clock::now();
  client.get(kube::resources::configmaps, kRef);
  CHECK(std::chrono::steady_clock::now() - started >= 1s);
  CHECK(sent == 2);
}

TEST_CASE("a watch refused with Retry-After is opened again after the wait", "[client][retry]") {
  int sent = 0;
  auto client = client_with({answer(429, "0"), answer(200)}, &sent);
  auto stream = client.watch(kube::resources::configmaps, "default", {});
  CHECK(stream);
  CHECK(sent == 2);
}
