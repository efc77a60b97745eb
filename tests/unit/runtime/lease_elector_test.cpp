// The elector's attempts, renewals and release against an in-memory Lease API.
#include <catch2/catch.hpp>

#include <thread>

#include "fake_lease_api.hpp"
#include "runtime/leader_election.hpp"

using namespace cpo::runtime;
using namespace std::chrono_literals;
using cpo::testing::FakeLeaseApi;

namespace {

struct Candidate {
  Candidate(const std::shared_ptr<FakeLeaseApi>& api, const std::string& identity, const Clock& clock,
            std::chrono::seconds retry = 2s, std::chrono::seconds renew_deadline = 10s)
      : client(api->client(api)),
        elector(*client,
                {.lease_namespace = "ops",
                 .lease_name = "lock",
                 .identity = identity,
                 .renew_deadline = renew_deadline,
                 .retry_period = retry},
                {.on_started_leading = [this] { ++started; },
                 .on_stopped_leading = [this] { ++stopped; },
                 .on_new_leader = [this](const std::string& who) { leaders.push_back(who); }},
                clock) {}
  std::unique_ptr<cpo::kube::Client> client;
  std::atomic<int> started = 0;
  std::atomic<int> stopped = 0;
  std::vector<std::string> leaders;
  LeaderElector elector;
};

}  // namespace

TEST_CASE("one candidate leads and the other takes over once renewals stop", "[leaderelection]") {
  FakeClock clock;
  auto api = std::make_shared<FakeLeaseApi>();
  Candidate a(api, "a", clock), b(api, "b", clock);

  CHECK(a.elector.try_acquire_or_renew());
  CHECK(a.started == 1);
  CHECK(a.elector.is_leader());
  CHECK_FALSE(b.elector.try_acquire_or_renew());
  CHECK_FALSE(b.elector.is_leader());
  CHECK(b.elector.leader_identity() == "a");
  CHECK(b.leaders == std::vector<std::string>{"a"});

  clock.advance(2s);
  CHECK(a.elector.try_acquire_or_renew());  // renewal
  CHECK(a.started == 1);
  CHECK_FALSE(b.elector.try_acquire_or_renew());  // sees the change: counts from now
  clock.advance(14s);                             // "a" stops renewing
  CHECK_FALSE(b.elector.try_acquire_or_renew());
  clock.advance(1s);
  CHECK(b.elector.try_acquire_or_renew());
  CHECK(b.started == 1);
  CHECK(api->lease("ops", "lock")["spec"]["holderIdentity"] == "b");
  CHECK(api->lease("ops", "lock")["spec"]["leaseTransitions"] == 1);

  // "a" comes back: it must notice it lost, not take the lease back.
  CHECK_FALSE(a.elector.try_acquire_or_renew());
  CHECK(a.stopped == 1);
  CHECK_FALSE(a.elector.is_leader());
  CHECK(a.elector.leader_identity() == "b");
  CHECK(api->lease("ops", "lock")["spec"]["holderIdentity"] == "b");
}

TEST_CASE("release hands the lease to a waiting candidate at once", "[leaderelection]") {
  FakeClock clock;
  auto api = std::make_shared<FakeLeaseApi>();
  Candidate a(api, "a", clock), b(api, "b", clock);
  REQUIRE(a.elector.try_acquire_or_renew());
  REQUIRE_FALSE(b.elector.try_acquire_or_renew());

  CHECK(a.elector.release());
  CHECK(a.stopped == 1);
  CHECK_FALSE(a.elector.is_leader());
  auto released = api->lease("ops", "lock")["spec"];
  CHECK(released["holderIdentity"] == "");
  CHECK(released["leaseDurationSeconds"] == 1);
  CHECK(released["renewTime"] == micro_time(clock.wall_now()));

  CHECK(b.elector.try_acquire_or_renew());  // no waiting for the lease duration
  CHECK(api->lease("ops", "lock")["spec"]["leaseTransitions"] == 1);
  CHECK_FALSE(a.elector.release());  // no longer ours: nothing written
}

TEST_CASE("losing a write race is not leadership and not an error", "[leaderelection]") {
  FakeClock clock;
  auto api = std::make_shared<FakeLeaseApi>();
  Candidate a(api, "a", clock);
  api->next_write_error = "AlreadyExists";
  CHECK_FALSE(a.elector.try_acquire_or_renew());
  CHECK(a.started == 0);
  REQUIRE(a.elector.try_acquire_or_renew());
  api->next_write_error = "Conflict";
  int writes = api->writes;
  CHECK_FALSE(a.elector.try_acquire_or_renew());  // a renewal that lost: retried next period
  CHECK(api->writes == writes);
  CHECK(a.elector.is_leader());  // still within the renew deadline
  CHECK(a.elector.try_acquire_or_renew());
}

TEST_CASE("is_leader turns false once renewals fail for the renew deadline", "[leaderelection]") {
  FakeClock clock;
  auto api = std::make_shared<FakeLeaseApi>();
  Candidate a(api, "a", clock);
  REQUIRE(a.elector.try_acquire_or_renew());
  api->down = true;
  clock.advance(9s);
  CHECK_FALSE(a.elector.try_acquire_or_renew());
  CHECK(a.elector.is_leader());
  clock.advance(1s);
  CHECK_FALSE(a.elector.is_leader());
}

TEST_CASE("run reports Lost when renewals fail and Stopped on request", "[leaderelection]") {
  auto api = std::make_shared<FakeLeaseApi>();
  const Clock& clock = SystemClock::instance();
  SECTION("lost") {
    Candidate a(api, "a", clock, 1s, 1s);
    LeaderElector::Outcome outcome{};
    std::thread runner([&] { outcome = a.elector.run(std::stop_token{}); });
    while (a.started == 0) std::this_thread::sleep_for(10ms);
    api->down = true;
    auto started = std::chrono::steady_clock::now();
    runner.join();
    CHECK(outcome == LeaderElector::Outcome::Lost);
    CHECK(a.stopped == 1);
    CHECK(std::chrono::steady_clock::now() - started < 3s);
  }
  SECTION("stopped") {
    Candidate a(api, "a", clock);
    std::stop_source stop;
    LeaderElector::Outcome outcome{};
    std::thread runner([&] { outcome = a.elector.run(stop.get_token()); });
    while (a.started == 0) std::this_thread::sleep_for(10ms);
    auto asked = std::chrono::steady_clock::now();
    stop.request_stop();
    runner.join();
    CHECK(std::chrono::steady_clock::now() - asked < 500ms);
    CHECK(outcome == LeaderElector::Outcome::Stopped);
    CHECK(a.elector.is_leader());  // held until released
    CHECK(a.elector.release());
    CHECK(a.stopped == 1);
  }
}
