// Timestamps as the Kubernetes API writes them: "2006-01-02T15:04:05Z", whole
// seconds, UTC. Header-only, so the pure ClusterPolicy library can use it
// without linking the runtime.
#pragma once

#include <chrono>
#include <ctime>
#include <optional>
#include <string>

namespace cpo::runtime {

inline std::string rfc3339(std::chrono::system_clock::time_point time) {
  std::time_t seconds = std::chrono::system_clock::to_time_t(time);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return buffer;
}

// std::nullopt when `text` is not such a timestamp.
inline std::optional<std::chrono::system_clock::time_point> parse_rfc3339(const std::string& text) {
  std::tm utc{};
  const char* end = text.size() == 20 ? strptime(text.c_str(), "%Y-%m-%dT%H:%M:%SZ", &utc) : nullptr;
  if (!end || *end != '\0') return std::nullopt;
  return std::chrono::system_clock::from_time_t(timegm(&utc));
}

}  // namespace cpo::runtime
