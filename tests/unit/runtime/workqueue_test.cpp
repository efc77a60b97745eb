#include <catch2/catch.hpp>

#include <atomic>
#include <set>
#include <thread>

#include "runtime/workqueue.hpp"

using namespace cpo::runtime;
using namespace std::chrono_literals;

namespace {

WorkQueue fake_clock_queue(FakeClock& clock, std::shared_ptr<WorkQueueMetrics> metrics = nullptr) {
  return WorkQueue(WorkQueueOptions{.name = "test",
                                    .rate_limiter = std::make_unique<ItemExponentialRateLimiter>(1s, 100s),
                                    .metrics = std::move(metrics),
                                    .clock = &clock});
}

struct RecordingMetrics : WorkQueueMetrics {
  std::size_t depth = 0;
  int adds = 0;
  int retries = 0;
  std::vector<double> latencies;
  std::vector<double> durations;
  void set_depth(std::size_t d) override { depth = d; }
  void count_add() override { ++adds; }
  void count_retry() override { ++retries; }
  void observe_work_duration(std::chrono::duration<double> d) override { durations.push_back(d.count()); }
  void observe_queue_latency(std::chrono::duration<double> d) override { latencies.push_back(d.count()); }
};

}  // namespace

TEST_CASE("a key added many times before processing is processed once", "[workqueue]") {
  FakeClock clock;
  auto queue = fake_clock_queue(clock);
  queue.add("a");
  queue.add("b");
  queue.add("a");
  queue.add("a");
  CHECK(queue.len() == 2);
  CHECK(queue.get() == "a");
  CHECK(queue.get() == "b");
  CHECK(queue.len() == 0);
}

TEST_CASE("a key added while processing is queued again only after done", "[workqueue]") {
  FakeClock clock;
  auto queue = fake_clock_queue(clock);
  queue.add("a");
  REQUIRE(queue.get() == "a");
  queue.add("a");
  queue.add("a");
  CHECK(queue.len() == 0);  // never handed to a second worker meanwhile
  queue.done("a");
  CHECK(queue.len() == 1);
  CHECK(queue.get() == "a");
  queue.done("a");
  CHECK(queue.len() == 0);
}

TEST_CASE("add_after queues the key once its delay has passed on the clock", "[workqueue]") {
  FakeClock clock;
  auto queue = fake_clock_queue(clock);
  queue.add_after("a", 5s);
  queue.wake();
  CHECK(queue.len() == 0);
  clock.advance(4s);
  queue.wake();
  CHECK(queue.len() == 0);
  clock.advance(1s);
  queue.wake();
  CHECK(queue.len() == 1);
  queue.add_after("b", 0s);  // no delay: at once
  CHECK(queue.len() == 2);
}

TEST_CASE("add_after keeps the earliest time for the same key", "[workqueue]") {
  FakeClock clock;
  auto queue = fake_clock_queue(clock);
  queue.add_after("a", 10s);
  queue.add_after("a", 2s);
  queue.add_after("a", 7s);
  clock.advance(2s);
  queue.wake();
  REQUIRE(queue.len() == 1);
  REQUIRE(queue.get() == "a");
  queue.done("a");
  clock.advance(20s);
  queue.wake();
  CHECK(queue.len() == 0);  // the later requests were folded into the first
}

TEST_CASE("a blocked get wakes when a FakeClock moves a delayed key into the queue", "[workqueue]") {
  FakeClock clock;
  auto queue = fake_clock_queue(clock);
  queue.add_after("a", 30s);
  std::optional<std::string> got;
  std::thread worker([&] { got = queue.get(); });
  std::this_thread::sleep_for(50ms);
  clock.advance(30s);
  queue.wake();
  worker.join();
  CHECK(got == "a");
}

TEST_CASE("a blocked get wakes on add from another thread", "[workqueue]") {
  WorkQueue queue;
  std::optional<std::string> got;
  std::thread worker([&] { got = queue.get(); });
  std::this_thread::sleep_for(20ms);
  queue.add("x");
  worker.join();
  CHECK(got == "x");
}

TEST_CASE("get_for gives up after its idle time, and returns a key that comes sooner", "[workqueue]") {
  WorkQueue queue;
  const auto start = std::chrono::steady_clock::now();
  CHECK_FALSE(queue.get_for(50ms).has_value());
  CHECK(std::chrono::steady_clock::now() - start >= 50ms);
  std::optional<std::string> got;
  std::thread worker([&] { got = queue.get_for(5s); });
  std::this_thread::sleep_for(20ms);
  queue.add("x");
  worker.join();
  CHECK(got == "x");
  queue.add_after("later", 30ms);  // a delayed key ready before the idle time ends
  CHECK(queue.get_for(2s) == "later");
}

TEST_CASE("add_rate_limited waits as the limiter says and forget resets it", "[workqueue]") {
  FakeClock clock;
  auto queue = fake_clock_queue(clock);
  queue.add_rate_limited("a");  // 1 s
  CHECK(queue.num_requeues("a") == 1);
  clock.advance(999ms);
  queue.wake();
  CHECK(queue.len() == 0);
  clock.advance(1ms);
  queue.wake();
  REQUIRE(queue.len() == 1);
  REQUIRE(queue.get() == "a");
  queue.add_rate_limited("a");  // 2 s
  queue.done("a");
  clock.advance(1s);
  queue.wake();
  CHECK(queue.len() == 0);
  clock.advance(1s);
  queue.wake();
  CHECK(queue.len() == 1);
  CHECK(queue.num_requeues("a") == 2);
  queue.forget("a");
  CHECK(queue.num_requeues("a") == 0);
}

TEST_CASE("shutdown makes get return nullopt at once and drops queued keys", "[workqueue]") {
  FakeClock clock;
  auto queue = fake_clock_queue(clock);
  queue.add("a");
  queue.add_after("b", 1s);
  queue.shutdown();
  CHECK(queue.shutting_down());
  CHECK(queue.get() == std::nullopt);
  queue.add("c");
  CHECK(queue.len() == 0);

  WorkQueue blocked;
  std::optional<std::string> got = "unset";
  std::thread worker([&] { got = blocked.get(); });
  std::this_thread::sleep_for(20ms);
  blocked.shutdown();
  worker.join();
  CHECK(got == std::nullopt);
}

TEST_CASE("shutdown_with_drain lets workers finish queued and in-flight keys", "[workqueue]") {
  WorkQueue queue;
  for (int i = 0; i < 5; ++i) queue.add("k" + std::to_string(i));
  std::atomic<int> processed = 0;
  std::thread worker([&] {
    while (auto key = queue.get()) {
      std::this_thread::sleep_for(5ms);
      ++processed;
      queue.done(*key);
    }
  });
  std::this_thread::sleep_for(2ms);
  CHECK(queue.shutdown_with_drain(5s));
  worker.join();
  CHECK(processed == 5);
  queue.add("late");
  CHECK(queue.len() == 0);
}

TEST_CASE("shutdown_with_drain gives up at the deadline when a key is never done", "[workqueue]") {
  WorkQueue queue;
  queue.add("stuck");
  REQUIRE(queue.get() == "stuck");
  auto started = std::chrono::steady_clock::now();
  CHECK_FALSE(queue.shutdown_with_drain(100ms));
  CHECK(std::chrono::steady_clock::now() - started >= 100ms);
  CHECK(queue.get() == std::nullopt);
  queue.done("stuck");  // harmless after shutdown
}

TEST_CASE("metrics hooks see depth and adds and retries and latency and work duration", "[workqueue]") {
  FakeClock clock;
  auto metrics = std::make_shared<RecordingMetrics>();
  auto queue = fake_clock_queue(clock, metrics);
  queue.add("a");
  queue.add("a");  // deduplicated: not an add
  queue.add("b");
  CHECK(metrics->adds == 2);
  CHECK(metrics->depth == 2);
  clock.advance(3s);
  REQUIRE(queue.get() == "a");
  CHECK(metrics->depth == 1);
  REQUIRE(metrics->latencies == std::vector<double>{3.0});
  clock.advance(2s);
  CHECK(queue.longest_running_processor() == 2s);
  REQUIRE(queue.get() == "b");
  clock.advance(1s);
  CHECK(queue.longest_running_processor() == 3s);
  CHECK(queue.unfinished_work() == 4s);  // 3 s + 1 s
  queue.done("a");
  CHECK(metrics->durations == std::vector<double>{3.0});
  queue.add_rate_limited("b");
  CHECK(metrics->retries == 1);
  queue.done("b");
  CHECK(queue.longest_running_processor() == 0s);
  CHECK(queue.unfinished_work() == 0s);
}

TEST_CASE("many workers never process the same key at the same time", "[workqueue]") {
  WorkQueue queue;
  std::mutex mutex;
  std::set<std::string> in_progress;
  std::atomic<bool> overlap = false;
  std::atomic<int> processed = 0;
  std::vector<std::thread> workers;
  for (int w = 0; w < 4; ++w) {
    workers.emplace_back([&] {
      while (auto key = queue.get()) {
        {
          std::lock_guard lock(mutex);
          if (!in_progress.insert(*key).second) overlap = true;
        }
        std::this_thread::sleep_for(50us);
        {
          std::lock_guard lock(mutex);
          in_progress.erase(*key);
        }
        ++processed;
        queue.done(*key);
      }
    });
  }
  for (int i = 0; i < 2000; ++i) queue.add("k" + std::to_string(i % 7));
  CHECK(queue.shutdown_with_drain(10s));
  for (auto& worker : workers) worker.join();
  CHECK_FALSE(overlap);
  CHECK(processed >= 7);
  CHECK(processed <= 2000);
}
