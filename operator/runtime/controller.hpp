// A controller: a work queue of keys and up to N workers that reconcile them.
//
// One worker always runs; more start while keys wait for a free worker (a worker
// taking a key with others still queued starts one more, up to N) and leave after
// `idle_exit` without a key. A controller with little to do costs one thread, a
// burst gets N at once.
//
// The reconcile function is level-based: it receives a key and recomputes
// everything from the caches. It returns what to do next: nothing, reconcile
// again after a delay, or "failed" (the key is retried with per-key exponential
// backoff), failed and a delay together. An exception is a failure too.
#pragma once

#include <chrono>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "runtime/metrics.hpp"
#include "runtime/workqueue.hpp"

namespace cpo::runtime {

struct ReconcileResult {
  // Reconcile again after this delay even if nothing changes (e.g. a deadline to check).
  std::optional<std::chrono::milliseconds> requeue_after;
  // Set: the reconcile failed (this says what failed). The key is retried with
  // backoff; a requeue_after set as well still holds, so a deadline is checked on
  // time however long the backoff has grown.
  std::optional<std::string> error;

  static ReconcileResult done() { return {}; }
  static ReconcileResult after(std::chrono::milliseconds delay) { return {delay, std::nullopt}; }
  static ReconcileResult failed(std::string error,
                                std::optional<std::chrono::milliseconds> requeue_after = std::nullopt) {
    return {requeue_after, std::move(error)};
  }
};

using Reconciler = std::function<ReconcileResult(const std::string& key)>;

class Controller {
 public:
  Controller(std::string name, Reconciler reconciler, int workers, Metrics& metrics,
             std::chrono::milliseconds idle_exit = std::chrono::seconds(10));
  ~Controller();
  Controller(const Controller&) = delete;
  Controller& operator=(const Controller&) = delete;

  const std::string& name() const { return name_; }
  WorkQueue& queue() { return *queue_; }

  void start();
  // Stops taking keys and waits for reconciles in flight, up to `timeout`.
  // Returns false when some were still running at the deadline.
  bool stop(std::chrono::nanoseconds timeout);

  // Worker threads running now (1 to N once started).
  int live_workers() const;

  // Refreshes the queue's "longest running" and "unfinished work" gauges.
  void update_gauges();

 private:
  struct Worker {
    std::thread thread;
    bool finished = false;  // guarded by workers_mutex_
  };
  void spawn_locked(bool resident);
  void grow_if_queued();
  void work(Worker& self, bool resident);
  void process(const std::string& key);

  std::string name_;
  Reconciler reconciler_;
  int max_workers_;
  std::chrono::milliseconds idle_exit_;
  Metrics& metrics_;
  std::unique_ptr<WorkQueue> queue_;

  mutable std::mutex workers_mutex_;
  std::list<Worker> workers_;  // stable addresses: each thread holds its own entry
  int live_ = 0;
  bool stopping_ = false;
};

}  // namespace cpo::runtime
