// Leader election on a coordination.k8s.io/v1 Lease: one replica at a time runs
// the controllers.
//
// A candidate trusts only its own steady clock: a lease held by another replica is
// expired when its record has not changed for leaseDurationSeconds as *this*
// candidate observed it, whatever renewTime says, so skewed wall clocks cannot
// make two leaders. Every write is an update carrying the resourceVersion read,
// so of two racing candidates exactly one wins (the other gets 409 and waits).
// A leader that cannot renew within renew_deadline (< lease_duration) steps down
// before anyone else may take over: a renewal counts from when its attempt
// started, every request of a leader is limited to the time left before that
// deadline, a leader never sleeps past it, and it steps down as soon as it passes.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>

#include <nlohmann/json.hpp>

#include "kube/client.hpp"
#include "runtime/clock.hpp"

namespace cpo::runtime {

struct LeaderElectionConfig {
  std::string lease_namespace;
  std::string lease_name;
  std::string identity;  // unique per process: see default_identity()
  std::chrono::seconds lease_duration{15};
  std::chrono::seconds renew_deadline{10};
  std::chrono::seconds retry_period{2};
  // Attempts to acquire are spaced retry_period * (1 + random[0, jitter)).
  double jitter = 0.2;
};

// host name + "_" + random hex.
std::string default_identity();

// The Lease spec fields the election uses.
struct LeaseRecord {
  std::string holder_identity;
  int lease_duration_seconds = 0;
  std::string acquire_time;  // MicroTime text
  std::string renew_time;
  int lease_transitions = 0;
  bool operator==(const LeaseRecord&) const = default;
};
LeaseRecord lease_record(const nlohmann::json& lease);

// What a candidate has seen: the last record read and when, by its steady clock,
// that record last changed.
struct LeaseObservation {
  std::optional<LeaseRecord> record;
  Clock::steady_time changed_at{};
};

enum class LeaseAction { Create, TakeOver, Renew, Wait };

struct LeaseDecision {
  LeaseAction action = LeaseAction::Wait;
  nlohmann::json lease;          // the object to create or update (carries resourceVersion)
  LeaseObservation observation;  // the candidate's observation after this read
  std::string holder;            // the holder as read ("" when none)
};

// The pure core of one attempt: `lease` is the object read (std::nullopt when
// it does not exist).
LeaseDecision decide_lease(const std::optional<nlohmann::json>& lease, const LeaseObservation& previous,
                           const LeaderElectionConfig& config, Clock::steady_time now,
                           Clock::wall_time wall_now);

// "2006-01-02T15:04:05.000000Z" (a Kubernetes MicroTime, UTC).
std::string micro_time(Clock::wall_time time);

// Callbacks run on the thread calling run() (or release()), must return promptly
// and must not call run(), try_acquire_or_renew() or release().
struct LeaderCallbacks {
  std::function<void()> on_started_leading;
  std::function<void()> on_stopped_leading;  // lost (renewal failed, taken over) or released
  std::function<void(const std::string& identity)> on_new_leader;  // the holder changed
};

class LeaderElector {
 public:
  // While leading, each request is limited to the time left before the renew
  // deadline; the client's own request timeout bounds attempts to acquire.
  LeaderElector(kube::Client& client, LeaderElectionConfig config, LeaderCallbacks callbacks,
                const Clock& clock = SystemClock::instance());

  enum class Outcome { Stopped, Lost };
  // Acquires, then renews until `stop` is requested (Stopped: the lease is still
  // held; call release() after run() has returned and the controllers stopped) or
  // renewal fails (Lost: on_stopped_leading has run; exit non-zero).
  Outcome run(std::stop_token stop);
  // One read and, if due, one write. True when this candidate holds the lease after
  // it. A leader whose renew deadline passes before or during the attempt steps
  // down (on_stopped_leading) and writes nothing more.
  bool try_acquire_or_renew();
  // Gives the lease up if held: holder cleared, leaseDurationSeconds 1, renewTime
  // now, so a successor acquires at once. True when a release was written.
  bool release();

  // True while the last successful renewal (counted from when its attempt
  // started) is younger than renew_deadline.
  bool is_leader() const;
  // The holder last observed ("" when none).
  std::string leader_identity() const;
  const LeaderElectionConfig& config() const { return config_; }

 private:
  void observe_holder(const std::string& holder);
  void step_down();
  std::chrono::nanoseconds jittered_retry_period();

  kube::Client& client_;
  LeaderElectionConfig config_;
  LeaderCallbacks callbacks_;
  const Clock& clock_;

  std::mutex step_mutex_;  // one attempt or release at a time
  LeaseObservation observation_;

  mutable std::mutex state_mutex_;
  bool leading_ = false;
  Clock::steady_time renewed_at_{};
  std::string holder_;
};

}  // namespace cpo::runtime
