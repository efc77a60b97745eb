#include <catch2/catch.hpp>

#include "apimachinery/rfc3339.hpp"

using namespace cpo::apimachinery;

TEST_CASE("RFC 3339 timestamps are written and read back as the API writes them", "[rfc3339]") {
  const auto t = std::chrono::system_clock::time_point(std::chrono::seconds(1795000000));
  CHECK(rfc3339(t) == "2026-11-18T11:06:40Z");
  CHECK(parse_rfc3339(rfc3339(t)) == t);
  // Fractions of a second are dropped when writing.
  CHECK(rfc3339(t + std::chrono::milliseconds(900)) == "2026-11-18T11:06:40Z");
  for (const char* bad : {"", "yesterday", "2026-11-18 08:26:40Z", "2026-11-18T11:06:40Zjunk", "2026-11-18T08:26:40"}) {
    INFO(bad);
    CHECK_FALSE(parse_rfc3339(bad));
  }
}
