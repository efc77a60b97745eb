#include <catch2/catch.hpp>

#include "runtime/event_recorder.hpp"

using namespace cpo::runtime;
using cpo::apimachinery::rfc3339;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

struct Call {
  std::string verb;  // "create" | "patch"
  std::string ns;
  std::string name;
  json body;
};

class RecordingSink : public EventSink {
 public:
  void create(const std::string& ns, const json& event) override {
    std::lock_guard lock(mutex_);
    calls_.push_back({"create", ns, event["metadata"]["name"], event});
  }
  void patch(const std::string& ns, const std::string& name, const json& patch) override {
    std::lock_guard lock(mutex_);
    if (patch_not_found) throw cpo::kube::ApiError(404, cpo::kube::ErrorKind::NotFound, "NotFound", "gone");
    calls_.push_back({"patch", ns, name, patch});
  }
  std::vector<Call> calls() {
    std::lock_guard lock(mutex_);
    return calls_;
  }
  std::atomic<bool> patch_not_found = false;

 private:
  std::mutex mutex_;
  std::vector<Call> calls_;
};

json pod(const std::string& name = "web-1") {
  return {{"apiVersion", "v1"},
          {"kind", "Pod"},
          {"metadata",
           {{"name", name}, {"namespace", "apps"}, {"uid", "uid-" + name}, {"resourceVersion", "42"}}}};
}

}  // namespace

TEST_CASE("an event becomes a core/v1 Event about its object", "[events]") {
  FakeClock clock;
  RecordingSink sink;
  EventRecorder recorder(sink, "gpu-operator", clock, {.instance = "pod-a"});
  recorder.record(pod(), EventType::Warning, "Failed", "could not apply");
  REQUIRE(recorder.flush(5s));
  auto calls = sink.calls();
  REQUIRE(calls.size() == 1);
  const json& event = calls[0].body;
  CHECK(calls[0].verb == "create");
  CHECK(calls[0].ns == "apps");
  CHECK(event["metadata"]["namespace"] == "apps");
  CHECK(event["metadata"]["name"].get<std::string>().rfind("web-1.", 0) == 0);
  CHECK(event["involvedObject"] == json({{"apiVersion", "v1"},
                                         {"kind", "Pod"},
                                         {"name", "web-1"},
                                         {"namespace", "apps"},
                                         {"uid", "uid-web-1"},
                                         {"resourceVersion", "42"}}));
  CHECK(event["type"] == "Warning");
  CHECK(event["reason"] == "Failed");
  CHECK(event["message"] == "could not apply");
  CHECK(event["count"] == 1);
  CHECK(event["firstTimestamp"] == rfc3339(clock.wall_now()));
  CHECK(event["lastTimestamp"] == event["firstTimestamp"]);
  CHECK(event["source"]["component"] == "gpu-operator");
  CHECK(event["reportingComponent"] == "gpu-operator");
  CHECK(event["reportingInstance"] == "pod-a");
}

TEST_CASE("repeats of the same event patch the count and last timestamp", "[events]") {
  FakeClock clock;
  RecordingSink sink;
  EventRecorder recorder(sink, "op", clock);
  recorder.record(pod(), EventType::Normal, "Synced", "ok");
  clock.advance(1min);
  auto second = pod();
  second["metadata"]["resourceVersion"] = "43";  // a newer version of the same object
  recorder.record(second, EventType::Normal, "Synced", "ok");
  clock.advance(9min);
  recorder.record(pod(), EventType::Normal, "Synced", "ok");
  REQUIRE(recorder.flush(5s));
  auto calls = sink.calls();
  REQUIRE(calls.size() == 3);
  CHECK(calls[0].verb == "create");
  CHECK(calls[1].verb == "patch");
  CHECK(calls[2].verb == "patch");
  CHECK(calls[1].name == calls[0].name);
  CHECK(calls[2].name == calls[0].name);
  CHECK(calls[1].ns == "apps");
  CHECK(calls[1].body["count"] == 2);
  CHECK(calls[2].body["count"] == 3);
  CHECK(calls[2].body["lastTimestamp"] == rfc3339(clock.wall_now()));
  CHECK(recorder.dropped() == 0);
}

TEST_CASE("a different message or type or object is a new event", "[events]") {
  FakeClock clock;
  RecordingSink sink;
  EventRecorder recorder(sink, "op", clock);
  recorder.record(pod(), EventType::Normal, "Synced", "ok");
  recorder.record(pod(), EventType::Normal, "Synced", "ok, again");
  recorder.record(pod(), EventType::Warning, "Synced", "ok");
  recorder.record(pod("web-2"), EventType::Normal, "Synced", "ok");
  REQUIRE(recorder.flush(5s));
  auto calls = sink.calls();
  REQUIRE(calls.size() == 4);
  for (const auto& call : calls) CHECK(call.verb == "create");
}

TEST_CASE("a repeat more than 10 minutes after the last one is a new event", "[events]") {
  FakeClock clock;
  RecordingSink sink;
  EventRecorder recorder(sink, "op", clock);
  recorder.record(pod(), EventType::Normal, "Synced", "ok");
  clock.advance(10min);
  recorder.record(pod(), EventType::Normal, "Synced", "ok");
  REQUIRE(recorder.flush(5s));
  auto calls = sink.calls();
  REQUIRE(calls.size() == 2);
  CHECK(calls[1].verb == "create");
  CHECK(calls[1].name != calls[0].name);
  CHECK(calls[1].body["count"] == 1);
}

TEST_CASE("an object may burst 25 events and then one per 5 minutes and the rest are dropped", "[events]") {
  FakeClock clock;
  RecordingSink sink;
  EventRecorder recorder(sink, "op", clock);
  for (int i = 0; i < 30; ++i) recorder.record(pod(), EventType::Normal, "Step", "step " + std::to_string(i));
  recorder.record(pod("other"), EventType::Normal, "Step", "another object has its own budget");
  REQUIRE(recorder.flush(5s));
  CHECK(sink.calls().size() == 26);
  CHECK(recorder.dropped() == 5);
  clock.advance(5min);
  recorder.record(pod(), EventType::Normal, "Step", "after the refill");
  recorder.record(pod(), EventType::Normal, "Step", "one too many");
  REQUIRE(recorder.flush(5s));
  CHECK(sink.calls().size() == 27);
  CHECK(sink.calls().back().body["message"] == "after the refill");
  CHECK(recorder.dropped() == 6);
}

TEST_CASE("events about cluster-scoped objects go to namespace default", "[events]") {
  FakeClock clock;
  RecordingSink sink;
  EventRecorder recorder(sink, "op", clock);
  json node = {{"apiVersion", "v1"}, {"kind", "Node"}, {"metadata", {{"name", "gpu-node"}, {"uid", "n1"}}}};
  recorder.record(node, EventType::Normal, "Labeled", "added GPU labels");
  REQUIRE(recorder.flush(5s));
  auto calls = sink.calls();
  REQUIRE(calls.size() == 1);
  CHECK(calls[0].ns == "default");
  CHECK(calls[0].body["metadata"]["namespace"] == "default");
  CHECK_FALSE(calls[0].body["involvedObject"].contains("namespace"));
}

TEST_CASE("an Event gone when patched is created anew", "[events]") {
  FakeClock clock;
  RecordingSink sink;
  EventRecorder recorder(sink, "op", clock);
  recorder.record(pod(), EventType::Normal, "Synced", "ok");
  REQUIRE(recorder.flush(5s));
  sink.patch_not_found = true;
  recorder.record(pod(), EventType::Normal, "Synced", "ok");
  REQUIRE(recorder.flush(5s));
  auto calls = sink.calls();
  REQUIRE(calls.size() == 2);
  CHECK(calls[1].verb == "create");
  CHECK(calls[1].body["count"] == 1);
  CHECK(recorder.failed() == 0);
}

TEST_CASE("long messages are cut to 1024 bytes without splitting a character", "[events]") {
  FakeClock clock;
  RecordingSink sink;
  EventRecorder recorder(sink, "op", clock);
  std::string message = "x";
  for (int i = 0; i < 600; ++i) message += "\xc3\xa9";  // é, two bytes each
  recorder.record(pod(), EventType::Normal, "Long", message);
  REQUIRE(recorder.flush(5s));
  std::string sent = sink.calls().at(0).body["message"];
  CHECK(sent.size() <= 1024);
  CHECK(sent.size() >= 1020);
  CHECK(sent.substr(sent.size() - 3) == "...");
  CHECK_NOTHROW(json(sent).dump());
}

TEST_CASE("a full queue drops events instead of blocking the caller", "[events]") {
  FakeClock clock;
  class BlockingSink : public EventSink {
   public:
    void create(const std::string&, const json&) override {
      std::unique_lock lock(mutex);
      cv.wait(lock, [&] { return open; });
    }
    void patch(const std::string&, const std::string&, const json&) override {}
    std::mutex mutex;
    std::condition_variable cv;
    bool open = false;
  } sink;
  {
    EventRecorder recorder(sink, "op", clock, {.queue_capacity = 3});
    for (int i = 0; i < 10; ++i) recorder.record(pod("p" + std::to_string(i)), EventType::Normal, "R", "m");
    // One event is with the blocked sink, three wait in the queue.
    CHECK(recorder.dropped() >= 6);
    CHECK(recorder.dropped() <= 7);
    CHECK_FALSE(recorder.flush(20ms));
    {
      std::lock_guard lock(sink.mutex);
      sink.open = true;
    }
    sink.cv.notify_all();
    CHECK(recorder.flush(5s));
  }
}
