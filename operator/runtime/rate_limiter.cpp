#include "runtime/rate_limiter.hpp"

#include <algorithm>
#include <cmath>

namespace cpo::runtime {

using std::chrono::nanoseconds;

ItemExponentialRateLimiter::ItemExponentialRateLimiter(nanoseconds base, nanoseconds max)
    : base_(base), max_(max) {}

nanoseconds ItemExponentialRateLimiter::when(const std::string& key) {
  int exponent;
  {
    std::lock_guard lock(mutex_);
    int& failures = failures_[key];
    exponent = failures;
    if (failures < 1'000'000) ++failures;
  }
  if (base_ <= nanoseconds(0)) return nanoseconds(0);
  // In floating point so that a large exponent saturates instead of overflowing.
  double backoff = static_cast<double>(base_.count()) * std::pow(2.0, exponent);
  if (!(backoff < static_cast<double>(max_.count()))) return max_;
  return nanoseconds(static_cast<nanoseconds::rep>(backoff));
}

void ItemExponentialRateLimiter::forget(const std::string& key) {
  std::lock_guard lock(mutex_);
  failures_.erase(key);
}

int ItemExponentialRateLimiter::retries(const std::string& key) const {
  std::lock_guard lock(mutex_);
  auto it = failures_.find(key);
  return it == failures_.end() ? 0 : it->second;
}

TokenBucketRateLimiter::TokenBucketRateLimiter(double qps, int burst, const Clock& clock)
    : qps_(qps), burst_(std::max(burst, 1)), clock_(clock), tokens_(burst_), last_(clock.now()) {}

nanoseconds TokenBucketRateLimiter::when(const std::string&) {
  std::lock_guard lock(mutex_);
  auto now = clock_.now();
  if (now > last_) {
    std::chrono::duration<double> elapsed = now - last_;
    tokens_ = std::min(burst_, tokens_ + elapsed.count() * qps_);
    last_ = now;
  }
  tokens_ -= 1;
  if (tokens_ >= 0 || qps_ <= 0) return nanoseconds(0);
  return std::chrono::duration_cast<nanoseconds>(std::chrono::duration<double>(-tokens_ / qps_));
}

MaxOfRateLimiter::MaxOfRateLimiter(std::vector<std::unique_ptr<RateLimiter>> limiters)
    : limiters_(std::move(limiters)) {}

nanoseconds MaxOfRateLimiter::when(const std::string& key) {
  nanoseconds longest(0);
  for (auto& limiter : limiters_) longest = std::max(longest, limiter->when(key));
  return longest;
}

void MaxOfRateLimiter::forget(const std::string& key) {
  for (auto& limiter : limiters_) limiter->forget(key);
}

int MaxOfRateLimiter::retries(const std::string& key) const {
  int most = 0;
  for (const auto& limiter : limiters_) most = std::max(most, limiter->retries(key));
  return most;
}

std::unique_ptr<RateLimiter> default_controller_rate_limiter(const Clock& clock) {
  std::vector<std::unique_ptr<RateLimiter>> limiters;
  limiters.push_back(std::make_unique<ItemExponentialRateLimiter>());
  limiters.push_back(std::make_unique<TokenBucketRateLimiter>(10, 100, clock));
  return std::make_unique<MaxOfRateLimiter>(std::move(limiters));
}

}  // namespace cpo::runtime
