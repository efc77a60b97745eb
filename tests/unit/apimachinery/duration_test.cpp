#include <catch2/catch.hpp>

#include "apimachinery/duration.hpp"

using cpo::apimachinery::format_duration;
using cpo::apimachinery::parse_duration;
using namespace std::chrono_literals;

TEST_CASE("Durations read as Kubernetes tools write them", "[duration]") {
  CHECK(parse_duration("90s") == 90s);
  CHECK(parse_duration("10m") == 600s);
  CHECK(parse_duration("1h30m") == 5400s);
  CHECK(parse_duration("1h0m5s") == 3605s);
  CHECK(parse_duration("45") == 45s);  // bare seconds
  CHECK(parse_duration("0s") == 0s);
}

TEST_CASE("Durations that are not refuse with the text", "[duration]") {
  for (const char* bad : {"", "soon", "10x", "-5s", "5s3", "m", "1.5h"}) {
    INFO(bad);
    CHECK_THROWS_AS(parse_duration(bad), std::invalid_argument);
  }
  CHECK_THROWS_WITH(parse_duration("10x"), Catch::Contains("\"10x\""));
  // Values that would overflow are refused, not wrapped around.
  CHECK_THROWS_WITH(parse_duration("9223372036854775807h"), Catch::Contains("too long"));
  CHECK_THROWS_WITH(parse_duration("3000000000000000000"), Catch::Contains("too long"));
  CHECK(parse_duration("876000h") == std::chrono::hours(876000));  // 100 years
}

TEST_CASE("Durations are written in their shortest exact unit and read back", "[duration]") {
  CHECK(format_duration(600s) == "10m");
  CHECK(format_duration(7200s) == "2h");
  CHECK(format_duration(90s) == "90s");
  CHECK(format_duration(0s) == "0s");
  CHECK(format_duration(5400s) == "90m");
  for (auto value : {0s, 1s, 59s, 60s, 3599s, 3600s, 86400s}) CHECK(parse_duration(format_duration(value)) == value);
}
