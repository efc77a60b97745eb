#include <catch2/catch.hpp>

#include "runtime/rate_limiter.hpp"

using namespace cpo::runtime;
using namespace std::chrono_literals;

TEST_CASE("exponential backoff doubles per failure and starts over after forget", "[ratelimiter]") {
  ItemExponentialRateLimiter limiter(5ms, 1000s);
  CHECK(limiter.when("a") == 5ms);
  CHECK(limiter.when("a") == 10ms);
  CHECK(limiter.when("a") == 20ms);
  CHECK(limiter.when("b") == 5ms);
  CHECK(limiter.retries("a") == 3);
  CHECK(limiter.retries("b") == 1);
  limiter.forget("a");
  CHECK(limiter.retries("a") == 0);
  CHECK(limiter.when("a") == 5ms);
}

TEST_CASE("exponential backoff is capped and never overflows", "[ratelimiter]") {
  ItemExponentialRateLimiter limiter(1ms, 1s);
  for (int i = 0; i < 10; ++i) limiter.when("a");  // 1 .. 512 ms
  CHECK(limiter.when("a") == 1s);                  // 1024 ms capped
  for (int i = 0; i < 5000; ++i) REQUIRE(limiter.when("a") == 1s);
  CHECK(limiter.retries("a") == 5011);
}

TEST_CASE("token bucket allows a burst and then one token per 1/qps", "[ratelimiter]") {
  FakeClock clock;
  TokenBucketRateLimiter bucket(1, 3, clock);
  CHECK(bucket.when("a") == 0s);
  CHECK(bucket.when("b") == 0s);
  CHECK(bucket.when("c") == 0s);
  CHECK(bucket.when("d") == 1s);  // reserves the token that arrives in 1 s
  CHECK(bucket.when("e") == 2s);
  clock.advance(1500ms);
  CHECK(bucket.when("f") == 1500ms);
  clock.advance(100s);  // refills to the burst, not beyond
  CHECK(bucket.when("g") == 0s);
  CHECK(bucket.when("h") == 0s);
  CHECK(bucket.when("i") == 0s);
  CHECK(bucket.when("j") == 1s);
  CHECK(bucket.retries("a") == 0);
}

TEST_CASE("max-of limiter takes the longest wait and forgets everywhere", "[ratelimiter]") {
  FakeClock clock;
  std::vector<std::unique_ptr<RateLimiter>> parts;
  parts.push_back(std::make_unique<ItemExponentialRateLimiter>(100ms, 10s));
  parts.push_back(std::make_unique<TokenBucketRateLimiter>(1, 2, clock));
  MaxOfRateLimiter limiter(std::move(parts));
  CHECK(limiter.when("a") == 100ms);  // bucket says 0
  CHECK(limiter.when("a") == 200ms);
  CHECK(limiter.when("a") == 1s);  // bucket is out of tokens: 1 s > 400 ms
  CHECK(limiter.retries("a") == 3);
  limiter.forget("a");
  CHECK(limiter.retries("a") == 0);
}

TEST_CASE("the default controller limiter starts at 5 ms", "[ratelimiter]") {
  FakeClock clock;
  auto limiter = default_controller_rate_limiter(clock);
  CHECK(limiter->when("a") == 5ms);
  CHECK(limiter->when("a") == 10ms);
  for (int i = 0; i < 98; ++i) limiter->when("k" + std::to_string(i));
  CHECK(limiter->when("z") == 100ms);  // the 101st token within the burst of 100 at 10 qps
}
