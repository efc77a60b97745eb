// How long an item waits before it is retried: per-item exponential backoff, an
// overall token bucket, and the maximum of several limiters. The default
// controller limiter is max(exponential 5 ms .. 1000 s, bucket 10 qps / burst 100).
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "runtime/clock.hpp"

namespace cpo::runtime {

// All implementations are thread-safe.
class RateLimiter {
 public:
  virtual ~RateLimiter() = default;
  // How long `key` waits before its next attempt; counts the attempt as a failure.
  virtual std::chrono::nanoseconds when(const std::string& key) = 0;
  // Stops tracking `key` (it succeeded): its backoff starts over.
  virtual void forget(const std::string& key) = 0;
  // Failures counted for `key` since it was last forgotten.
  virtual int retries(const std::string& key) const = 0;
};

// base * 2^failures, capped at max.
class ItemExponentialRateLimiter final : public RateLimiter {
 public:
  explicit ItemExponentialRateLimiter(std::chrono::nanoseconds base = std::chrono::milliseconds(5),
                                      std::chrono::nanoseconds max = std::chrono::seconds(1000));
  std::chrono::nanoseconds when(const std::string& key) override;
  void forget(const std::string& key) override;
  int retries(const std::string& key) const override;

 private:
  std::chrono::nanoseconds base_;
  std::chrono::nanoseconds max_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, int> failures_;
};

// One bucket for all keys: `burst` tokens, refilled at `qps`. when() reserves a
// token, possibly one not yet refilled, and returns the wait until it is.
class TokenBucketRateLimiter final : public RateLimiter {
 public:
  explicit TokenBucketRateLimiter(double qps = 10, int burst = 100,
                                  const Clock& clock = SystemClock::instance());
  std::chrono::nanoseconds when(const std::string& key) override;
  void forget(const std::string&) override {}
  int retries(const std::string&) const override { return 0; }

 private:
  double qps_;
  double burst_;
  const Clock& clock_;
  std::mutex mutex_;
  double tokens_;
  Clock::steady_time last_;
};

// The longest wait any of its limiters asks for.
class MaxOfRateLimiter final : public RateLimiter {
 public:
  explicit MaxOfRateLimiter(std::vector<std::unique_ptr<RateLimiter>> limiters);
  std::chrono::nanoseconds when(const std::string& key) override;
  void forget(const std::string& key) override;
  int retries(const std::string& key) const override;

 private:
  std::vector<std::unique_ptr<RateLimiter>> limiters_;
};

// max(ItemExponential(5 ms, 1000 s), TokenBucket(10 qps, burst 100)).
std::unique_ptr<RateLimiter> default_controller_rate_limiter(const Clock& clock = SystemClock::instance());

}  // namespace cpo::runtime
