#include "apimachinery/duration.hpp"

#include <charconv>
#include <stdexcept>

namespace cpo::apimachinery {

namespace {
constexpr long kMaxSeconds = 100L * 365 * 24 * 3600;  // far beyond any sensible deadline, far from overflow
}  // namespace

std::chrono::seconds parse_duration(const std::string& text) {
  if (text.empty()) throw std::invalid_argument("empty duration");
  long total = 0;
  std::size_t at = 0;
  bool any_unit = false;
  while (at < text.size()) {
    long value = 0;
    auto [ptr, ec] = std::from_chars(text.data() + at, text.data() + text.size(), value);
    if (ec != std::errc{} || value < 0) throw std::invalid_argument("\"" + text + "\" is not a duration (e.g. 90s, 10m, 1h30m)");
    at = static_cast<std::size_t>(ptr - text.data());
    if (at == text.size()) {
      if (any_unit) throw std::invalid_argument("\"" + text + "\": a number without a unit after others");
      if (value > kMaxSeconds - total) throw std::invalid_argument("\"" + text + "\" is too long (at most 100 years)");
      return std::chrono::seconds(value);  // bare seconds
    }
    char unit = text[at++];
    long multiplier = 0;
    switch (unit) {
      case 'h': multiplier = 3600; break;
      case 'm': multiplier = 60; break;
      case 's': multiplier = 1; break;
      default: throw std::invalid_argument("\"" + text + "\" is not a duration (units: h, m, s)");
    }
    if (value > (kMaxSeconds - total) / multiplier) {
      throw std::invalid_argument("\"" + text + "\" is too long (at most 100 years)");
    }
    total += value * multiplier;
    any_unit = true;
  }
  return std::chrono::seconds(total);
}

std::string format_duration(std::chrono::seconds value) {
  const auto s = value.count();
  if (s != 0 && s % 3600 == 0) return std::to_string(s / 3600) + "h";
  if (s != 0 && s % 60 == 0) return std::to_string(s / 60) + "m";
  return std::to_string(s) + "s";
}

}  // namespace cpo::apimachinery
