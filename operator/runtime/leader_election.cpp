#include "runtime/leader_election.hpp"

#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <ctime>
#include <random>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace cpo::runtime {

using nlohmann::json;

namespace {

std::string text(const json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string{};
}

int number(const json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_number_integer() ? it->get<int>() : 0;
}

json spec_of(const LeaseRecord& record) {
  return {{"holderIdentity", record.holder_identity},
          {"leaseDurationSeconds", record.lease_duration_seconds},
          {"acquireTime", record.acquire_time},
          {"renewTime", record.renew_time},
          {"leaseTransitions", record.lease_transitions}};
}

// The read object with the election's spec fields replaced (resourceVersion kept).
json with_record(json lease, const LeaseRecord& record) {
  if (!lease["spec"].is_object()) lease["spec"] = json::object();
  lease["spec"].update(spec_of(record));
  return lease;
}

}  // namespace

std::string micro_time(Clock::wall_time time) {
  auto micros = std::chrono::duration_cast<std::chrono::microseconds>(time.time_since_epoch());
  auto seconds = std::chrono::floor<std::chrono::seconds>(micros);
  std::time_t whole = seconds.count();
  std::tm utc{};
  gmtime_r(&whole, &utc);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%S", &utc);
  return fmt::format("{}.{:06d}Z", buffer, (micros - seconds).count());
}

std::string default_identity() {
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0) std::snprintf(host, sizeof host, "unknown");
  std::random_device random;
  return fmt::format("{}_{:08x}{:08x}", host, random(), random());
}

LeaseRecord lease_record(const json& lease) {
  static const json empty = json::object();
  const json& spec = lease.contains("spec") && lease["spec"].is_object() ? lease["spec"] : empty;
  return {text(spec, "holderIdentity"), number(spec, "leaseDurationSeconds"), text(spec, "acquireTime"),
          text(spec, "renewTime"), number(spec, "leaseTransitions")};
}

LeaseDecision decide_lease(const std::optional<json>& lease, const LeaseObservation& previous,
                           const LeaderElectionConfig& config, Clock::steady_time now,
                           Clock::wall_time wall_now) {
  LeaseDecision decision;
  decision.observation = previous;
  const std::string stamp = micro_time(wall_now);
  const int duration_seconds = static_cast<int>(config.lease_duration.count());
  if (!lease) {
    decision.action = LeaseAction::Create;
    LeaseRecord mine{config.identity, duration_seconds, stamp, stamp, 0};
    decision.lease = {{"apiVersion", "coordination.k8s.io/v1"},
                      {"kind", "Lease"},
                      {"metadata", {{"name", config.lease_name}, {"namespace", config.lease_namespace}}},
                      {"spec", spec_of(mine)}};
    return decision;
  }

  LeaseRecord current = lease_record(*lease);
  decision.holder = current.holder_identity;
  if (!previous.record || *previous.record != current) decision.observation = {current, now};

  // Expiry by this candidate's own clock: how long the record has stood unchanged.
  std::chrono::seconds valid_for = current.lease_duration_seconds > 0
                                       ? std::chrono::seconds(current.lease_duration_seconds)
                                       : config.lease_duration;
  bool held_by_other = !current.holder_identity.empty() && current.holder_identity != config.identity;
  if (held_by_other && now < decision.observation.changed_at + valid_for) {
    decision.action = LeaseAction::Wait;
    return decision;
  }

  LeaseRecord next = current;
  next.holder_identity = config.identity;
  next.lease_duration_seconds = duration_seconds;
  next.renew_time = stamp;
  if (current.holder_identity == config.identity) {
    decision.action = LeaseAction::Renew;
    if (next.acquire_time.empty()) next.acquire_time = stamp;
  } else {
    decision.action = LeaseAction::TakeOver;
    next.acquire_time = stamp;
    next.lease_transitions = current.lease_transitions + 1;
  }
  decision.lease = with_record(*lease, next);
  return decision;
}

LeaderElector::LeaderElector(kube::Client& client, LeaderElectionConfig config, LeaderCallbacks callbacks,
                             const Clock& clock)
    : client_(client), config_(std::move(config)), callbacks_(std::move(callbacks)), clock_(clock) {}

bool LeaderElector::try_acquire_or_renew() {
  std::lock_guard step(step_mutex_);
  const kube::ObjectRef ref{config_.lease_namespace, config_.lease_name, ""};
  // A renewal counts from when its attempt started, the earliest moment its write
  // can have reached the server: counting from the answer would overstate how
  // long the lease is safely this candidate's.
  const auto started_at = clock_.now();
  std::optional<Clock::steady_time> deadline;  // while leading: renew by then or step down
  {
    std::lock_guard state(state_mutex_);
    if (leading_) deadline = renewed_at_ + config_.renew_deadline;
  }
  auto deadline_passed = [&] { return deadline && clock_.now() >= *deadline; };
  // While leading, a request may take only the time left before the deadline, so
  // that a slow server cannot keep this candidate leading past it.
  auto request_timeout = [&]() -> std::optional<std::chrono::milliseconds> {
    if (!deadline) return std::nullopt;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*deadline - clock_.now());
    return std::max(left, std::chrono::milliseconds(1));
  };
  auto give_up = [&] {
    spdlog::error("leader election: could not renew lease {}/{} within {}s", ref.ns, ref.name,
                  config_.renew_deadline.count());
    step_down();
    return false;
  };

  if (deadline_passed()) return give_up();
  std::optional<json> lease;
  try {
    lease = client_.find(kube::resources::leases, ref, {.timeout = request_timeout()});
  } catch (const std::exception& e) {
    spdlog::warn("leader election: reading lease {}/{} failed: {}", ref.ns, ref.name, e.what());
    if (deadline_passed()) return give_up();
    return false;
  }
  LeaseDecision decision = decide_lease(lease, observation_, config_, clock_.now(), clock_.wall_now());
  observation_ = decision.observation;
  const bool was_leading = deadline.has_value();
  if (was_leading && decision.action != LeaseAction::Create && decision.holder != config_.identity) {
    // Someone else holds it now: stop at once, never take it straight back.
    spdlog::error("leader election: lease {}/{} is now held by '{}'", ref.ns, ref.name, decision.holder);
    step_down();
    observe_holder(decision.holder);
    return false;
  }
  if (decision.action == LeaseAction::Wait) {
    observe_holder(decision.holder);
    return false;
  }
  // The read took so long that the deadline passed: not one more write, standbys
  // may already be about to take the lease.
  if (deadline_passed()) return give_up();
  const kube::WriteOptions write_options{.timeout = request_timeout()};
  try {
    if (decision.action == LeaseAction::Create) {
      client_.create(kube::resources::leases, decision.lease, write_options);
    } else {
      client_.update(kube::resources::leases, decision.lease, write_options);
    }
  } catch (const kube::ApiError& e) {
    if (e.is_conflict() || e.is_already_exists()) {
      spdlog::info("leader election: another candidate wrote lease {}/{} first", ref.ns, ref.name);
    } else {
      spdlog::warn("leader election: writing lease {}/{} failed: {}", ref.ns, ref.name, e.what());
    }
    if (deadline_passed()) return give_up();
    return false;
  } catch (const std::exception& e) {
    spdlog::warn("leader election: writing lease {}/{} failed: {}", ref.ns, ref.name, e.what());
    if (deadline_passed()) return give_up();
    return false;
  }
  // An answer that came only after the deadline is no renewal to lead on.
  if (deadline_passed()) return give_up();
  observation_ = {lease_record(decision.lease), clock_.now()};
  bool started;
  {
    std::lock_guard state(state_mutex_);
    started = !leading_;
    leading_ = true;
    renewed_at_ = started_at;
  }
  observe_holder(config_.identity);
  if (started) {
    spdlog::info("leader election: {} acquired lease {}/{}", config_.identity, ref.ns, ref.name);
    if (callbacks_.on_started_leading) callbacks_.on_started_leading();
  }
  return true;
}

LeaderElector::Outcome LeaderElector::run(std::stop_token stop) {
  std::mutex sleep_mutex;
  std::condition_variable_any sleeper;
  while (!stop.stop_requested()) {
    bool was_leading;
    {
      std::lock_guard state(state_mutex_);
      was_leading = leading_;
    }
    try_acquire_or_renew();
    bool leading;
    Clock::steady_time renewed_at;
    {
      std::lock_guard state(state_mutex_);
      leading = leading_;
      renewed_at = renewed_at_;
    }
    // Taken over, or the renew deadline passed during the attempt.
    if (was_leading && !leading) return Outcome::Lost;
    std::chrono::nanoseconds pause;
    if (leading) {
      // Never sleep past the renew deadline: the next attempt starts by then at
      // the latest, and steps down at once if the deadline has passed.
      auto left = renewed_at + config_.renew_deadline - clock_.now();
      pause = std::clamp<std::chrono::nanoseconds>(left, std::chrono::nanoseconds(0), config_.retry_period);
    } else {
      pause = jittered_retry_period();
    }
    std::unique_lock lock(sleep_mutex);
    sleeper.wait_for(lock, stop, pause, [] { return false; });
  }
  return Outcome::Stopped;
}

bool LeaderElector::release() {
  std::lock_guard step(step_mutex_);
  {
    std::lock_guard state(state_mutex_);
    if (!leading_) return false;
  }
  const kube::ObjectRef ref{config_.lease_namespace, config_.lease_name, ""};
  bool released = false;
  try {
    auto lease = client_.find(kube::resources::leases, ref);
    if (lease && lease_record(*lease).holder_identity == config_.identity) {
      LeaseRecord record = lease_record(*lease);
      std::string stamp = micro_time(clock_.wall_now());
      record.holder_identity.clear();
      record.lease_duration_seconds = 1;
      record.acquire_time = stamp;
      record.renew_time = stamp;
      json written = with_record(*lease, record);
      client_.update(kube::resources::leases, written);
      observation_ = {record, clock_.now()};
      released = true;
      spdlog::info("leader election: {} released lease {}/{}", config_.identity, ref.ns, ref.name);
    }
  } catch (const std::exception& e) {
    spdlog::warn("leader election: releasing lease {}/{} failed: {}", ref.ns, ref.name, e.what());
  }
  step_down();
  if (released) observe_holder("");
  return released;
}

bool LeaderElector::is_leader() const {
  std::lock_guard state(state_mutex_);
  return leading_ && clock_.now() - renewed_at_ < config_.renew_deadline;
}

std::string LeaderElector::leader_identity() const {
  std::lock_guard state(state_mutex_);
  return holder_;
}

void LeaderElector::observe_holder(const std::string& holder) {
  {
    std::lock_guard state(state_mutex_);
    if (holder == holder_) return;
    holder_ = holder;
  }
  if (!holder.empty() && callbacks_.on_new_leader) callbacks_.on_new_leader(holder);
}

void LeaderElector::step_down() {
  {
    std::lock_guard state(state_mutex_);
    if (!leading_) return;
    leading_ = false;
  }
  if (callbacks_.on_stopped_leading) callbacks_.on_stopped_leading();
}

std::chrono::nanoseconds LeaderElector::jittered_retry_period() {
  static thread_local std::mt19937_64 random{std::random_device{}()};
  std::uniform_real_distribution<double> spread(0.0, std::max(config_.jitter, 0.0));
  std::chrono::duration<double> period = config_.retry_period;
  return std::chrono::duration_cast<std::chrono::nanoseconds>(period * (1.0 + spread(random)));
}

}  // namespace cpo::runtime
