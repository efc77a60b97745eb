// The controller's contract with its reconciler: done, requeue after a delay,
// failed (retried with backoff), failed with a delay (both hold), exceptions.
#include <catch2/catch.hpp>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "runtime/controller.hpp"

using namespace cpo::runtime;
using namespace std::chrono_literals;
using Steady = std::chrono::steady_clock;

namespace {

// Runs a controller whose reconciler answers `script[i]` on the i-th call (done
// afterwards) for `run_for`, and returns when each call came, from the first add.
std::vector<Steady::duration> calls(Metrics& metrics, std::vector<std::function<ReconcileResult()>> script,
                                   std::chrono::milliseconds run_for) {
  std::mutex mutex;
  std::vector<Steady::duration> at;
  const auto start = Steady::now();
  Controller controller("test", [&](const std::string&) {
    std::size_t n;
    {
      std::lock_guard lock(mutex);
      at.push_back(Steady::now() - start);
      n = at.size() - 1;
    }
    return n < script.size() ? script[n]() : ReconcileResult::done();
  }, 1, metrics);
  controller.start();
  controller.queue().add("key");
  std::this_thread::sleep_for(run_for);
  controller.stop(1s);
  std::lock_guard lock(mutex);
  return at;
}

double counter(Metrics& metrics, const std::string& line_start) {
  const std::string text = metrics.serialize();
  auto pos = text.find("\n" + line_start);
  if (pos == std::string::npos) return -1;
  auto value = text.find(' ', pos + 1 + line_start.size());
  return std::stod(text.substr(value + 1, text.find('\n', value) - value - 1));
}

}  // namespace

// The longest wait between two calls.
Steady::duration longest_gap(const std::vector<Steady::duration>& at) {
  Steady::duration gap{};
  for (std::size_t i = 1; i < at.size(); ++i) gap = std::max(gap, at[i] - at[i - 1]);
  return gap;
}

TEST_CASE("A failed reconcile is retried with backoff, and a delay it asks for holds as well", "[controller]") {
  // The backoff doubles from 5 ms: after a second of failures it waits 320 ms and
  // more. A failure that also asks to look again in 100 ms is looked at on time.
  std::vector<std::function<ReconcileResult()>> failing(100, [] { return ReconcileResult::failed("apply failed"); });
  std::vector<std::function<ReconcileResult()>> failing_with_deadline(
      100, [] { return ReconcileResult::failed("apply failed", 100ms); });
  Metrics metrics;
  auto backoff_only = calls(metrics, failing, 1200ms);
  Metrics metrics_with_deadline;
  auto with_deadline = calls(metrics_with_deadline, failing_with_deadline, 1200ms);
  CHECK(longest_gap(backoff_only) > 250ms);
  CHECK(longest_gap(with_deadline) < 250ms);
  CHECK(backoff_only.size() >= 5);
  const double failures = static_cast<double>(backoff_only.size());
  CHECK(counter(metrics, "controller_runtime_reconcile_errors_total{controller=\"test\"}") == failures);
  CHECK(counter(metrics, "controller_runtime_reconcile_total{controller=\"test\",result=\"error\"}") == failures);
}

TEST_CASE("Done, requeue after a delay, and exceptions as failures", "[controller]") {
  Metrics metrics;
  auto at = calls(metrics,
                  {[] { return ReconcileResult::after(300ms); },
                   []() -> ReconcileResult { throw std::runtime_error("boom"); }},
                  700ms);
  // 1: requeued after 300 ms; 2: throws, retried with backoff; 3: done, nothing after.
  REQUIRE(at.size() == 3);
  CHECK(at[1] >= 290ms);
  CHECK(at[2] - at[1] < 200ms);
  CHECK(counter(metrics, "controller_runtime_reconcile_total{controller=\"test\",result=\"requeue_after\"}") == 1);
  CHECK(counter(metrics, "controller_runtime_reconcile_total{controller=\"test\",result=\"error\"}") == 1);
  CHECK(counter(metrics, "controller_runtime_reconcile_total{controller=\"test\",result=\"success\"}") == 1);
}

namespace {
// Blocks every reconcile until release(); counts how many run at once.
struct Gate {
  std::mutex mutex;
  std::condition_variable cv;
  bool open = false;
  int running = 0;
  int most = 0;
  int done = 0;
  ReconcileResult pass() {
    std::unique_lock lock(mutex);
    most = std::max(most, ++running);
    cv.wait(lock, [&] { return open; });
    --running;
    ++done;
    return ReconcileResult::done();
  }
  void release() {
    std::lock_guard lock(mutex);
    open = true;
    cv.notify_all();
  }
};

bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds within = 3s) {
  const auto deadline = Steady::now() + within;
  while (!condition()) {
    if (Steady::now() > deadline) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}
}  // namespace

TEST_CASE("Workers start while keys wait, up to the maximum, and leave when idle", "[controller]") {
  Metrics metrics;
  Gate gate;
  Controller controller("pool", [&](const std::string&) { return gate.pass(); }, 4, metrics, 200ms);
  controller.start();
  CHECK(controller.live_workers() == 1);  // nothing to do: one thread
  for (int i = 0; i < 10; ++i) controller.queue().add("node-" + std::to_string(i));
  // A burst gets every worker the controller may have, and never more.
  REQUIRE(eventually([&] {
    std::lock_guard lock(gate.mutex);
    return gate.running == 4;
  }));
  CHECK(controller.live_workers() == 4);
  gate.release();
  REQUIRE(eventually([&] {
    std::lock_guard lock(gate.mutex);
    return gate.done == 10;
  }));
  {
    std::lock_guard lock(gate.mutex);
    CHECK(gate.most == 4);
  }
  // Idle again: back to the one resident worker, which still takes keys.
  REQUIRE(eventually([&] { return controller.live_workers() == 1; }));
  controller.queue().add("node-late");
  REQUIRE(eventually([&] {
    std::lock_guard lock(gate.mutex);
    return gate.done == 11;
  }));
  CHECK(controller.stop(1s));
  CHECK(controller.live_workers() == 0);
}

TEST_CASE("One key at a time needs one worker however many are allowed", "[controller]") {
  Metrics metrics;
  std::atomic<int> calls{0};
  Controller controller("steady", [&](const std::string&) {
    ++calls;
    return ReconcileResult::done();
  }, 16, metrics, 200ms);
  controller.start();
  for (int i = 0; i < 20; ++i) {
    controller.queue().add("node-" + std::to_string(i));
    REQUIRE(eventually([&] { return calls.load() == i + 1; }));
  }
  CHECK(controller.live_workers() == 1);
  controller.stop(1s);
}
