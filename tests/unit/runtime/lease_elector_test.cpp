// The elector's attempts, renewals and release against an in-memory Lease API.
#include <catch2/catch.hpp>

#include <condition_variable>
#include <mutex>
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

  // "a" comes back: its renew deadline passed long ago, so it steps down at once,
  // and then sees the new leader; it must never take the lease back.
  int writes = api->writes;
  CHECK_FALSE(a.elector.try_acquire_or_renew());
  CHECK(a.stopped == 1);
  CHECK_FALSE(a.elector.is_leader());
  CHECK_FALSE(a.elector.try_acquire_or_renew());
  CHECK(a.started == 1);
  CHECK(a.elector.leader_identity() == "b");
  CHECK(api->writes == writes);
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

TEST_CASE("a leader whose renewal read outlasts the renew deadline writes nothing and steps down",
          "[leaderelection]") {
  FakeClock clock;
  auto api = std::make_shared<FakeLeaseApi>();
  Candidate a(api, "a", clock);
  REQUIRE(a.elector.try_acquire_or_renew());
  clock.advance(8s);
  // The read answers 3 s later: the renew deadline (10 s) has passed by then.
  api->before_request = [&](const cpo::kube::HttpRequest& request) {
    if (request.method == "GET") clock.advance(3s);
  };
  int writes = api->writes;
  CHECK_FALSE(a.elector.try_acquire_or_renew());
  CHECK(api->writes == writes);  // no renewal written after the deadline
  CHECK(a.stopped == 1);
  CHECK_FALSE(a.elector.is_leader());
}

TEST_CASE("a leader's requests are bounded by the time left before its renew deadline", "[leaderelection]") {
  FakeClock clock;
  auto api = std::make_shared<FakeLeaseApi>();
  Candidate a(api, "a", clock);
  REQUIRE(a.elector.try_acquire_or_renew());
  clock.advance(7s);
  api->before_request = [&](const cpo::kube::HttpRequest& request) {
    if (request.method == "GET") clock.advance(2s);
  };
  std::size_t before = api->requests().size();
  REQUIRE(a.elector.try_acquire_or_renew());
  auto requests = api->requests();
  REQUIRE(requests.size() == before + 2);
  CHECK(requests[before].method == "GET");
  CHECK(requests[before].timeout <= 3s);  // the deadline is 3 s away when the read starts
  CHECK(requests[before].timeout > 0ms);
  CHECK(requests[before + 1].method == "PUT");
  CHECK(requests[before + 1].timeout <= 1s);  // and 1 s away when the write starts
  CHECK(requests[before + 1].timeout > 0ms);
}

TEST_CASE("a renewal counts from when its attempt started, not from when it was answered", "[leaderelection]") {
  FakeClock clock;
  auto api = std::make_shared<FakeLeaseApi>();
  Candidate a(api, "a", clock);
  REQUIRE(a.elector.try_acquire_or_renew());
  clock.advance(2s);
  // A slow server: the read and the write take 2 s each.
  api->before_request = [&](const cpo::kube::HttpRequest&) { clock.advance(2s); };
  REQUIRE(a.elector.try_acquire_or_renew());  // started 2 s after acquiring, answered at 6 s
  clock.advance(5900ms);
  CHECK(a.elector.is_leader());
  clock.advance(100ms);  // 10 s after the renewal started
  CHECK_FALSE(a.elector.is_leader());
}

namespace {

// Makes every request of a FakeLeaseApi hang for the whole timeout it was given
// (a server that accepts connections but never answers), until released.
class Hang {
 public:
  void operator()(const cpo::kube::HttpRequest& request) {
    std::unique_lock lock(mutex_);
    if (!on_) return;
    cv_.wait_for(lock, request.timeout, [this] { return !on_; });
    throw cpo::kube::TransportError("reading from fake: timed out");
  }
  void set(bool on) {
    {
      std::lock_guard lock(mutex_);
      on_ = on;
    }
    cv_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  bool on_ = false;
};

}  // namespace

TEST_CASE("run steps down at the renew deadline while the server hangs", "[leaderelection]") {
  auto api = std::make_shared<FakeLeaseApi>();
  auto hang = std::make_shared<Hang>();
  api->before_request = [hang](const cpo::kube::HttpRequest& request) { (*hang)(request); };
  // The client's own request timeout (30 s) is far longer than the lease (15 s).
  Candidate a(api, "a", SystemClock::instance(), 1s, 3s);
  LeaderElector::Outcome outcome{};
  std::thread runner([&] { outcome = a.elector.run(std::stop_token{}); });
  while (a.started == 0) std::this_thread::sleep_for(10ms);
  hang->set(true);
  auto hung_at = std::chrono::steady_clock::now();
  while (a.stopped == 0 && std::chrono::steady_clock::now() - hung_at < 40s) std::this_thread::sleep_for(10ms);
  auto stepped_down_after = std::chrono::steady_clock::now() - hung_at;
  hang->set(false);
  runner.join();
  CHECK(outcome == LeaderElector::Outcome::Lost);
  CHECK(a.stopped == 1);
  // The last renewal started before the hang, so the deadline was at most 3 s
  // later; a standby may take over 15 s after it. Stepping down must come first.
  CHECK(stepped_down_after < 10s);
}

TEST_CASE("run never sleeps past the renew deadline", "[leaderelection]") {
  auto api = std::make_shared<FakeLeaseApi>();
  // A retry period longer than the renew deadline: renewals must still not wait for it.
  Candidate a(api, "a", SystemClock::instance(), 30s, 2s);
  LeaderElector::Outcome outcome{};
  std::thread runner([&] { outcome = a.elector.run(std::stop_token{}); });
  while (a.started == 0) std::this_thread::sleep_for(10ms);
  api->down = true;
  auto down_at = std::chrono::steady_clock::now();
  runner.join();
  CHECK(outcome == LeaderElector::Outcome::Lost);
  CHECK(a.stopped == 1);
  CHECK(std::chrono::steady_clock::now() - down_at < 10s);  // the deadline is 2 s, the retry period 30 s
}
