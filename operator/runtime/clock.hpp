// Time as the runtime sees it: a steady clock for timeouts and backoff, and a wall
// clock for timestamps written to the API. Tests substitute a FakeClock so that
// decisions about leases, backoff and event aggregation are checked exactly.
#pragma once

#include <chrono>
#include <mutex>

namespace cpo::runtime {

class Clock {
 public:
  using steady_time = std::chrono::steady_clock::time_point;
  using wall_time = std::chrono::system_clock::time_point;
  virtual ~Clock() = default;
  virtual steady_time now() const = 0;
  virtual wall_time wall_now() const = 0;
};

class SystemClock final : public Clock {
 public:
  steady_time now() const override { return std::chrono::steady_clock::now(); }
  wall_time wall_now() const override { return std::chrono::system_clock::now(); }
  static const SystemClock& instance() {
    static const SystemClock clock;
    return clock;
  }
};

// A clock that moves only when told to.
class FakeClock final : public Clock {
 public:
  FakeClock() : steady_(std::chrono::hours(1000)), wall_(std::chrono::hours(24 * 365 * 50)) {}
  steady_time now() const override {
    std::lock_guard lock(mutex_);
    return steady_;
  }
  wall_time wall_now() const override {
    std::lock_guard lock(mutex_);
    return wall_;
  }
  void advance(std::chrono::nanoseconds d) {
    std::lock_guard lock(mutex_);
    steady_ += d;
    wall_ += std::chrono::duration_cast<std::chrono::system_clock::duration>(d);
  }
  // Moves only the wall clock (clock skew between machines, NTP steps).
  void skew_wall(std::chrono::nanoseconds d) {
    std::lock_guard lock(mutex_);
    wall_ += std::chrono::duration_cast<std::chrono::system_clock::duration>(d);
  }

 private:
  mutable std::mutex mutex_;
  steady_time steady_;
  wall_time wall_;
};

}  // namespace cpo::runtime
