#include "runtime/workqueue.hpp"

#include <algorithm>

namespace cpo::runtime {

namespace {
const std::shared_ptr<WorkQueueMetrics>& noop_metrics() {
  static const auto metrics = std::make_shared<WorkQueueMetrics>();
  return metrics;
}
}  // namespace

WorkQueue::WorkQueue(WorkQueueOptions options)
    : name_(std::move(options.name)),
      limiter_(std::move(options.rate_limiter)),
      metrics_(options.metrics ? std::move(options.metrics) : noop_metrics()),
      clock_(options.clock ? *options.clock : SystemClock::instance()),
      max_wait_(std::max(options.max_wait, std::chrono::milliseconds(1))) {
  if (!limiter_) limiter_ = default_controller_rate_limiter(clock_);
}

void WorkQueue::add(const std::string& key) {
  std::lock_guard lock(mutex_);
  add_locked(key);
}

void WorkQueue::add_locked(const std::string& key) {
  if (state_ != State::Running) return;
  if (!dirty_.insert(key).second) return;
  metrics_->count_add();
  added_at_.try_emplace(key, clock_.now());
  if (processing_.count(key)) return;  // queued again by done()
  queue_.push_back(key);
  metrics_->set_depth(queue_.size());
  ready_cv_.notify_one();
}

void WorkQueue::add_after(const std::string& key, std::chrono::nanoseconds delay) {
  std::lock_guard lock(mutex_);
  if (state_ != State::Running) return;
  if (delay <= std::chrono::nanoseconds(0)) {
    add_locked(key);
    return;
  }
  auto ready_at = clock_.now() + delay;
  auto [it, inserted] = delayed_.try_emplace(key, ready_at);
  if (!inserted) {
    if (it->second <= ready_at) return;  // an earlier request stands
    delayed_order_.erase({it->second, key});
    it->second = ready_at;
  }
  delayed_order_.insert({ready_at, key});
  ready_cv_.notify_all();  // a waiter may need to wake earlier now
}

void WorkQueue::add_rate_limited(const std::string& key) {
  auto delay = limiter_->when(key);
  {
    std::lock_guard lock(mutex_);
    if (state_ != State::Running) return;
    metrics_->count_retry();
  }
  add_after(key, delay);
}

void WorkQueue::forget(const std::string& key) { limiter_->forget(key); }

int WorkQueue::num_requeues(const std::string& key) const { return limiter_->retries(key); }

void WorkQueue::promote_ready_locked() {
  if (delayed_order_.empty()) return;
  auto now = clock_.now();
  while (!delayed_order_.empty() && delayed_order_.begin()->first <= now) {
    std::string key = delayed_order_.begin()->second;
    delayed_order_.erase(delayed_order_.begin());
    delayed_.erase(key);
    add_locked(key);
  }
}

std::optional<std::string> WorkQueue::get() { return get_until(std::nullopt); }

std::optional<std::string> WorkQueue::get_for(std::chrono::nanoseconds idle) {
  return get_until(std::chrono::steady_clock::now() + idle);
}

std::optional<std::string> WorkQueue::get_until(std::optional<std::chrono::steady_clock::time_point> give_up) {
  std::unique_lock lock(mutex_);
  while (true) {
    if (state_ == State::ShutDown) return std::nullopt;
    promote_ready_locked();
    if (!queue_.empty()) break;
    if (state_ == State::Draining && processing_.empty()) return std::nullopt;
    std::chrono::nanoseconds wait = max_wait_;
    if (!delayed_order_.empty()) wait = std::min<std::chrono::nanoseconds>(delayed_order_.begin()->first - clock_.now(), wait);
    if (give_up) {
      const auto left = *give_up - std::chrono::steady_clock::now();
      if (left <= std::chrono::nanoseconds(0)) return std::nullopt;
      wait = std::min<std::chrono::nanoseconds>(left, wait);
    }
    if (delayed_order_.empty() && !give_up) {
      ready_cv_.wait(lock);
    } else {
      ready_cv_.wait_for(lock, wait);
    }
  }
  std::string key = std::move(queue_.front());
  queue_.pop_front();
  metrics_->set_depth(queue_.size());
  dirty_.erase(key);
  auto now = clock_.now();
  if (auto it = added_at_.find(key); it != added_at_.end()) {
    metrics_->observe_queue_latency(now - it->second);
    added_at_.erase(it);
  }
  processing_[key] = now;
  return key;
}

void WorkQueue::done(const std::string& key) {
  std::lock_guard lock(mutex_);
  auto it = processing_.find(key);
  if (it == processing_.end()) return;
  metrics_->observe_work_duration(clock_.now() - it->second);
  processing_.erase(it);
  if (state_ != State::ShutDown && dirty_.count(key)) {
    queue_.push_back(key);
    metrics_->set_depth(queue_.size());
    ready_cv_.notify_one();
  }
  if (state_ == State::Draining && idle_locked()) {
    ready_cv_.notify_all();  // workers waiting in get() may leave now
    idle_cv_.notify_all();
  }
}

std::size_t WorkQueue::len() const {
  std::lock_guard lock(mutex_);
  return queue_.size();
}

void WorkQueue::wake() {
  std::lock_guard lock(mutex_);
  promote_ready_locked();
  ready_cv_.notify_all();
  idle_cv_.notify_all();
}

void WorkQueue::shutdown() {
  std::lock_guard lock(mutex_);
  state_ = State::ShutDown;
  queue_.clear();
  dirty_.clear();
  added_at_.clear();
  delayed_.clear();
  delayed_order_.clear();
  metrics_->set_depth(0);
  ready_cv_.notify_all();
  idle_cv_.notify_all();
}

bool WorkQueue::shutdown_with_drain(std::chrono::nanoseconds timeout) {
  std::unique_lock lock(mutex_);
  if (state_ == State::Running) {
    state_ = State::Draining;
    delayed_.clear();
    delayed_order_.clear();
    ready_cv_.notify_all();
  }
  auto deadline = clock_.now() + timeout;
  bool drained = idle_locked();
  while (!drained && state_ == State::Draining) {
    auto left = deadline - clock_.now();
    if (left <= std::chrono::nanoseconds(0)) break;
    idle_cv_.wait_for(lock, std::min<std::chrono::nanoseconds>(left, max_wait_));
    drained = idle_locked();
  }
  lock.unlock();
  shutdown();
  return drained;
}

bool WorkQueue::shutting_down() const {
  std::lock_guard lock(mutex_);
  return state_ != State::Running;
}

std::chrono::duration<double> WorkQueue::longest_running_processor() const {
  std::lock_guard lock(mutex_);
  auto now = clock_.now();
  std::chrono::duration<double> longest(0);
  for (const auto& [key, since] : processing_)
    longest = std::max<std::chrono::duration<double>>(longest, now - since);
  return longest;
}

std::chrono::duration<double> WorkQueue::unfinished_work() const {
  std::lock_guard lock(mutex_);
  auto now = clock_.now();
  std::chrono::duration<double> total(0);
  for (const auto& [key, since] : processing_) total += now - since;
  return total;
}

}  // namespace cpo::runtime
