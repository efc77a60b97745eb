// The pure decision of one leader-election attempt.
#include <catch2/catch.hpp>

#include "runtime/leader_election.hpp"

using namespace cpo::runtime;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

LeaderElectionConfig config_for(const std::string& identity) {
  return {.lease_namespace = "ops", .lease_name = "gpu-operator", .identity = identity};
}

json lease(const std::string& holder, const std::string& renew, int transitions = 0,
           const std::string& acquire = "2024-01-01T00:00:00.000000Z", int duration = 15) {
  return {{"apiVersion", "coordination.k8s.io/v1"},
          {"kind", "Lease"},
          {"metadata", {{"name", "gpu-operator"}, {"namespace", "ops"}, {"resourceVersion", "7"}}},
          {"spec",
           {{"holderIdentity", holder},
            {"leaseDurationSeconds", duration},
            {"acquireTime", acquire},
            {"renewTime", renew},
            {"leaseTransitions", transitions}}}};
}

}  // namespace

TEST_CASE("micro_time writes RFC 3339 UTC with microseconds", "[leaderelection]") {
  Clock::wall_time t{std::chrono::seconds(1700000000) + std::chrono::microseconds(1234)};
  CHECK(micro_time(t) == "2023-11-14T22:13:20.001234Z");
}

TEST_CASE("no lease yet: create one naming this candidate", "[leaderelection]") {
  FakeClock clock;
  auto d = decide_lease(std::nullopt, {}, config_for("a"), clock.now(), clock.wall_now());
  CHECK(d.action == LeaseAction::Create);
  CHECK(d.lease["metadata"]["namespace"] == "ops");
  CHECK(d.lease["metadata"]["name"] == "gpu-operator");
  const json& spec = d.lease["spec"];
  CHECK(spec["holderIdentity"] == "a");
  CHECK(spec["leaseDurationSeconds"] == 15);
  CHECK(spec["acquireTime"] == micro_time(clock.wall_now()));
  CHECK(spec["renewTime"] == spec["acquireTime"]);
  CHECK(spec["leaseTransitions"] == 0);
}

TEST_CASE("held by another and renewed recently: wait", "[leaderelection]") {
  FakeClock clock;
  auto first = decide_lease(lease("b", "r1"), {}, config_for("a"), clock.now(), clock.wall_now());
  CHECK(first.action == LeaseAction::Wait);
  CHECK(first.holder == "b");
  CHECK(first.observation.changed_at == clock.now());
  // The holder keeps renewing: every change restarts this candidate's count.
  LeaseObservation seen = first.observation;
  for (int i = 2; i < 20; ++i) {
    clock.advance(2s);
    auto d = decide_lease(lease("b", "r" + std::to_string(i)), seen, config_for("a"), clock.now(),
                          clock.wall_now());
    REQUIRE(d.action == LeaseAction::Wait);
    seen = d.observation;
  }
}

TEST_CASE("expired by this candidate's own observation: take over with transitions + 1", "[leaderelection]") {
  FakeClock clock;
  auto first = decide_lease(lease("b", "r1", 3), {}, config_for("a"), clock.now(), clock.wall_now());
  clock.advance(14s);
  auto waiting =
      decide_lease(lease("b", "r1", 3), first.observation, config_for("a"), clock.now(), clock.wall_now());
  CHECK(waiting.action == LeaseAction::Wait);
  CHECK(waiting.observation.changed_at == first.observation.changed_at);  // unchanged record
  clock.advance(1s);
  auto d =
      decide_lease(lease("b", "r1", 3), waiting.observation, config_for("a"), clock.now(), clock.wall_now());
  REQUIRE(d.action == LeaseAction::TakeOver);
  CHECK(d.lease["spec"]["holderIdentity"] == "a");
  CHECK(d.lease["spec"]["leaseTransitions"] == 4);
  CHECK(d.lease["spec"]["acquireTime"] == micro_time(clock.wall_now()));
  CHECK(d.lease["spec"]["renewTime"] == micro_time(clock.wall_now()));
  CHECK(d.lease["metadata"]["resourceVersion"] == "7");  // an update guarded by what was read
}

TEST_CASE("a renewTime far in the future does not keep an unrenewed lease alive", "[leaderelection]") {
  FakeClock clock;
  // The holder's wall clock runs a day ahead; only whether the record changes counts.
  std::string future = micro_time(clock.wall_now() + std::chrono::hours(24));
  auto first = decide_lease(lease("b", future), {}, config_for("a"), clock.now(), clock.wall_now());
  CHECK(first.action == LeaseAction::Wait);
  clock.advance(15s);
  auto d =
      decide_lease(lease("b", future), first.observation, config_for("a"), clock.now(), clock.wall_now());
  CHECK(d.action == LeaseAction::TakeOver);
}

TEST_CASE("a renewTime far in the past does not expire a lease seen changing", "[leaderelection]") {
  FakeClock clock;
  clock.skew_wall(std::chrono::hours(48));  // our wall clock is two days ahead
  std::string past = "2001-01-01T00:00:00.000000Z";
  auto d = decide_lease(lease("b", past), {}, config_for("a"), clock.now(), clock.wall_now());
  CHECK(d.action == LeaseAction::Wait);
}

TEST_CASE("renewing our own lease keeps acquireTime and transitions", "[leaderelection]") {
  FakeClock clock;
  std::string acquired = "2024-01-01T00:00:00.000000Z";
  auto d = decide_lease(lease("a", "r1", 5, acquired), {}, config_for("a"), clock.now(), clock.wall_now());
  REQUIRE(d.action == LeaseAction::Renew);
  CHECK(d.lease["spec"]["acquireTime"] == acquired);
  CHECK(d.lease["spec"]["leaseTransitions"] == 5);
  CHECK(d.lease["spec"]["renewTime"] == micro_time(clock.wall_now()));
  CHECK(d.lease["metadata"]["resourceVersion"] == "7");
}

TEST_CASE("a released lease (no holder) is acquired at once", "[leaderelection]") {
  FakeClock clock;
  auto d = decide_lease(lease("", "r1", 2, "x", 1), {}, config_for("a"), clock.now(), clock.wall_now());
  REQUIRE(d.action == LeaseAction::TakeOver);
  CHECK(d.lease["spec"]["leaseTransitions"] == 3);
  CHECK(d.lease["spec"]["leaseDurationSeconds"] == 15);
  json no_spec = lease("", "");
  no_spec.erase("spec");
  CHECK(decide_lease(no_spec, {}, config_for("a"), clock.now(), clock.wall_now()).action ==
        LeaseAction::TakeOver);
}

TEST_CASE("the lease's own duration governs expiry", "[leaderelection]") {
  FakeClock clock;
  auto first = decide_lease(lease("b", "r1", 0, "x", 60), {}, config_for("a"), clock.now(), clock.wall_now());
  clock.advance(30s);
  auto d = decide_lease(lease("b", "r1", 0, "x", 60), first.observation, config_for("a"), clock.now(),
                        clock.wall_now());
  CHECK(d.action == LeaseAction::Wait);
  clock.advance(30s);
  d = decide_lease(lease("b", "r1", 0, "x", 60), d.observation, config_for("a"), clock.now(),
                   clock.wall_now());
  CHECK(d.action == LeaseAction::TakeOver);
}
