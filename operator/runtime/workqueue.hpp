// The controller work queue: keys to reconcile, each handed to one worker at a
// time, with delayed and rate-limited requeues.
//
// - add(k) many times before k is processed: k is processed once.
// - k is never handed to two workers at once; added while processing, it is
//   queued again when the worker calls done(k).
// - add_after(k, d) queues k once d has passed (the earliest request wins);
//   add_rate_limited(k) waits as long as the rate limiter says.
// Thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "runtime/clock.hpp"
#include "runtime/rate_limiter.hpp"

namespace cpo::runtime {

// What the queue reports for the workqueue_* metrics. Every hook is a no-op by
// default. Hooks run under the queue's lock: they must not call back into the queue.
class WorkQueueMetrics {
 public:
  virtual ~WorkQueueMetrics() = default;
  virtual void set_depth(std::size_t /*depth*/) {}                      // workqueue_depth
  virtual void count_add() {}                                           // workqueue_adds_total
  virtual void count_retry() {}                                         // workqueue_retries_total
  virtual void observe_work_duration(std::chrono::duration<double>) {}  // get → done
  virtual void observe_queue_latency(std::chrono::duration<double>) {}  // add → get
};

struct WorkQueueOptions {
  std::string name;                           // the metrics' `name` label
  std::unique_ptr<RateLimiter> rate_limiter;  // default_controller_rate_limiter() when null
  std::shared_ptr<WorkQueueMetrics> metrics;  // no-op when null
  const Clock* clock = nullptr;               // SystemClock when null
  // The longest a blocked get() sleeps before looking at the clock again, so a
  // FakeClock moved by a test is noticed even without wake().
  std::chrono::milliseconds max_wait{std::chrono::seconds(1)};
};

class WorkQueue {
 public:
  explicit WorkQueue(WorkQueueOptions options = {});
  WorkQueue(const WorkQueue&) = delete;
  WorkQueue& operator=(const WorkQueue&) = delete;

  const std::string& name() const { return name_; }

  void add(const std::string& key);
  void add_after(const std::string& key, std::chrono::nanoseconds delay);
  // add_after(key, rate_limiter.when(key)), counted as a retry.
  void add_rate_limited(const std::string& key);
  // The key succeeded: its backoff starts over.
  void forget(const std::string& key);
  int num_requeues(const std::string& key) const;

  // Blocks until a key is ready. std::nullopt after shutdown(), and after
  // shutdown_with_drain() once nothing is queued or in progress.
  std::optional<std::string> get();
  // As get(), but gives up after `idle` (real time) with no key ready: std::nullopt
  // then too. For workers that leave when there is nothing to do.
  std::optional<std::string> get_for(std::chrono::nanoseconds idle);
  // The worker finished `key` (whatever the outcome).
  void done(const std::string& key);

  // Keys waiting to be handed out. A delayed key counts once get() or wake() has
  // seen that its time has come.
  std::size_t len() const;
  // Re-checks delayed keys against the clock now (tests moving a FakeClock).
  void wake();

  // Stops at once: get() returns std::nullopt, queued and delayed keys are dropped.
  void shutdown();
  // Stops accepting keys, lets workers finish what is queued and in progress, then
  // shuts down. False when `timeout` passed first. Needs running workers to drain.
  bool shutdown_with_drain(std::chrono::nanoseconds timeout);
  bool shutting_down() const;

  // For the workqueue_longest_running_processor_seconds and
  // workqueue_unfinished_work_seconds gauges: the age of the oldest key in
  // progress, and the sum of the ages of all keys in progress.
  std::chrono::duration<double> longest_running_processor() const;
  std::chrono::duration<double> unfinished_work() const;

 private:
  enum class State { Running, Draining, ShutDown };
  void add_locked(const std::string& key);
  std::optional<std::string> get_until(std::optional<std::chrono::steady_clock::time_point> give_up);
  void promote_ready_locked();
  bool idle_locked() const { return queue_.empty() && processing_.empty(); }

  std::string name_;
  std::unique_ptr<RateLimiter> limiter_;
  std::shared_ptr<WorkQueueMetrics> metrics_;
  const Clock& clock_;
  std::chrono::milliseconds max_wait_;

  mutable std::mutex mutex_;
  std::condition_variable ready_cv_;  // get() waiters
  std::condition_variable idle_cv_;   // shutdown_with_drain() waiter
  State state_ = State::Running;
  std::deque<std::string> queue_;
  std::unordered_set<std::string> dirty_;                           // queued or to be requeued after done
  std::unordered_map<std::string, Clock::steady_time> processing_;  // key → handed out at
  std::unordered_map<std::string, Clock::steady_time> added_at_;
  std::map<std::string, Clock::steady_time> delayed_;  // key → ready at
  std::set<std::pair<Clock::steady_time, std::string>> delayed_order_;
};

}  // namespace cpo::runtime
