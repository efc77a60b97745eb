// Durations as Kubernetes tools write them: "90s", "10m", "1h30m", or bare seconds.
//
// Contract: whole seconds, from 0 to 100 years; anything else is refused with a
// message that quotes the text.
#pragma once

#include <chrono>
#include <string>

namespace cpo::apimachinery {

// Throws std::invalid_argument naming the text.
std::chrono::seconds parse_duration(const std::string& text);

// The shortest of "2h", "10m", "45s" that says `value` exactly (parse_duration reads it back).
std::string format_duration(std::chrono::seconds value);

}  // namespace cpo::apimachinery
