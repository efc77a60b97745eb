// Timestamps as the Kubernetes API writes them: "2006-01-02T15:04:05Z", whole
// seconds, UTC.
//
// Contract: rfc3339() drops fractions of a second; parse_rfc3339() reads exactly
// that form back (and nothing else), so text written here sorts as time.
#pragma once

#include <chrono>
#include <optional>
#include <string>

namespace cpo::apimachinery {

std::string rfc3339(std::chrono::system_clock::time_point time);

// std::nullopt when `text` is not such a timestamp.
std::optional<std::chrono::system_clock::time_point> parse_rfc3339(const std::string& text);

}  // namespace cpo::apimachinery
