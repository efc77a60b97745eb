#include "runtime/controller.hpp"

#include <spdlog/spdlog.h>

namespace cpo::runtime {

namespace {

// workqueue_* metrics of one queue, labelled with its name.
class QueueMetrics final : public WorkQueueMetrics {
 public:
  QueueMetrics(Metrics& m, const std::string& name)
      : depth_(m.workqueue_depth.Add({{"name", name}})),
        adds_(m.workqueue_adds_total.Add({{"name", name}})),
        retries_(m.workqueue_retries_total.Add({{"name", name}})),
        work_(m.workqueue_work_duration_seconds.Add({{"name", name}}, Metrics::duration_buckets())),
        latency_(m.workqueue_queue_duration_seconds.Add({{"name", name}}, Metrics::duration_buckets())) {}
  void set_depth(std::size_t depth) override { depth_.Set(static_cast<double>(depth)); }
  void count_add() override { adds_.Increment(); }
  void count_retry() override { retries_.Increment(); }
  void observe_work_duration(std::chrono::duration<double> d) override { work_.Observe(d.count()); }
  void observe_queue_latency(std::chrono::duration<double> d) override { latency_.Observe(d.count()); }

 private:
  prometheus::Gauge& depth_;
  prometheus::Counter& adds_;
  prometheus::Counter& retries_;
  prometheus::Histogram& work_;
  prometheus::Histogram& latency_;
};

}  // namespace

Controller::Controller(std::string name, Reconciler reconciler, int workers, Metrics& metrics,
                       std::chrono::milliseconds idle_exit)
    : name_(std::move(name)),
      reconciler_(std::move(reconciler)),
      max_workers_(std::max(1, workers)),
      idle_exit_(idle_exit),
      metrics_(metrics) {
  WorkQueueOptions options;
  options.name = name_;
  options.metrics = std::make_shared<QueueMetrics>(metrics_, name_);
  queue_ = std::make_unique<WorkQueue>(std::move(options));
  metrics_.max_concurrent_reconciles.Add({{"controller", name_}}).Set(max_workers_);
  metrics_.active_workers.Add({{"controller", name_}}).Set(0);
  for (const char* result : {"success", "error", "requeue_after"}) {
    metrics_.reconcile_total.Add({{"controller", name_}, {"result", result}});
  }
  metrics_.reconcile_errors_total.Add({{"controller", name_}});
}

Controller::~Controller() { stop(std::chrono::seconds(0)); }

void Controller::start() {
  std::lock_guard lock(workers_mutex_);
  if (live_ > 0) return;
  stopping_ = false;
  spawn_locked(/*resident=*/true);
}

bool Controller::stop(std::chrono::nanoseconds timeout) {
  bool drained = queue_->shutdown_with_drain(timeout);
  queue_->shutdown();
  std::list<Worker> workers;
  {
    std::lock_guard lock(workers_mutex_);
    stopping_ = true;  // no worker starts another from now on
    workers.splice(workers.end(), workers_);
  }
  for (auto& w : workers) {
    if (w.thread.joinable()) w.thread.join();
  }
  return drained;
}

int Controller::live_workers() const {
  std::lock_guard lock(workers_mutex_);
  return live_;
}

void Controller::spawn_locked(bool resident) {
  // Threads that left are joined here (they are done, so this does not wait).
  for (auto it = workers_.begin(); it != workers_.end();) {
    if (!it->finished) {
      ++it;
      continue;
    }
    it->thread.join();
    it = workers_.erase(it);
  }
  auto& worker = workers_.emplace_back();
  ++live_;
  worker.thread = std::thread([this, &worker, resident] { work(worker, resident); });
}

void Controller::grow_if_queued() {
  if (queue_->len() == 0) return;
  std::lock_guard lock(workers_mutex_);
  if (!stopping_ && live_ < max_workers_) spawn_locked(/*resident=*/false);
}

void Controller::update_gauges() {
  metrics_.workqueue_longest_running_processor_seconds.Add({{"name", name_}})
      .Set(queue_->longest_running_processor().count());
  metrics_.workqueue_unfinished_work_seconds.Add({{"name", name_}}).Set(queue_->unfinished_work().count());
}

void Controller::work(Worker& self, bool resident) {
  while (auto key = resident ? queue_->get() : queue_->get_for(idle_exit_)) {
    grow_if_queued();
    process(*key);
    queue_->done(*key);
  }
  std::lock_guard lock(workers_mutex_);
  --live_;
  self.finished = true;
}

void Controller::process(const std::string& key) {
  auto& active = metrics_.active_workers.Add({{"controller", name_}});
  active.Increment();
  const auto started = std::chrono::steady_clock::now();
  ReconcileResult outcome;
  try {
    outcome = reconciler_(key);
  } catch (const std::exception& e) {
    outcome = ReconcileResult::failed(e.what());
  }
  std::string result = "success";
  if (outcome.error) {
    result = "error";
    metrics_.reconcile_errors_total.Add({{"controller", name_}}).Increment();
    int retries = queue_->num_requeues(key);
    spdlog::error("controller {}: reconciling {} failed (attempt {}): {}; retrying with backoff", name_, key,
                  retries + 1, *outcome.error);
    queue_->add_rate_limited(key);
  } else {
    queue_->forget(key);
    if (outcome.requeue_after) result = "requeue_after";
  }
  if (outcome.requeue_after) queue_->add_after(key, *outcome.requeue_after);
  const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - started;
  metrics_.reconcile_time_seconds.Add({{"controller", name_}}, Metrics::duration_buckets()).Observe(elapsed.count());
  metrics_.reconcile_total.Add({{"controller", name_}, {"result", result}}).Increment();
  active.Decrement();
}

}  // namespace cpo::runtime
