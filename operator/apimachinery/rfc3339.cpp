#include "apimachinery/rfc3339.hpp"

#include <ctime>

namespace cpo::apimachinery {

std::string rfc3339(std::chrono::system_clock::time_point time) {
  std::time_t seconds = std::chrono::system_clock::to_time_t(time);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return buffer;
}

std::optional<std::chrono::system_clock::time_point> parse_rfc3339(const std::string& text) {
  std::tm utc{};
  const char* end = text.size() == 20 ? strptime(text.c_str(), "%Y-%m-%dT%H:%M:%SZ", &utc) : nullptr;
  if (!end || *end != '\0') return std::nullopt;
  return std::chrono::system_clock::from_time_t(timegm(&utc));
}

}  // namespace cpo::apimachinery
