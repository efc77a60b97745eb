// Jittered exponential backoff for reconnect loops: 0.8 s, 1.6 s, ... up to 30 s,
// each delay stretched by a random factor in [1, 1 + jitter) so that many clients
// losing the same server do not come back in lockstep.
#pragma once

#include <algorithm>
#include <chrono>
#include <random>

namespace cpo::runtime {

class Backoff {
 public:
  Backoff(std::chrono::milliseconds initial = std::chrono::milliseconds(800),
          std::chrono::milliseconds max = std::chrono::seconds(30), double factor = 2.0, double jitter = 0.5)
      : initial_(initial), max_(max), factor_(factor), jitter_(jitter), current_(initial), rng_(std::random_device{}()) {}

  // The delay before the next attempt; grows after each call.
  std::chrono::milliseconds next() {
    auto base = current_;
    current_ = std::min(max_, std::chrono::milliseconds(static_cast<long>(current_.count() * factor_)));
    std::uniform_real_distribution<double> stretch(1.0, 1.0 + jitter_);
    auto delay = std::chrono::milliseconds(static_cast<long>(base.count() * stretch(rng_)));
    return std::min(delay, max_);
  }
  // After a success the next failure starts again from the initial delay.
  void reset() { current_ = initial_; }

 private:
  std::chrono::milliseconds initial_;
  std::chrono::milliseconds max_;
  double factor_;
  double jitter_;
  std::chrono::milliseconds current_;
  std::mt19937 rng_;
};

}  // namespace cpo::runtime
