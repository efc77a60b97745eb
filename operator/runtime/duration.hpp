// Durations as Kubernetes tools write them: "90s", "10m", "1h30m", or bare seconds.
#pragma once

#include <chrono>
#include <string>

namespace cpo::runtime {

// Throws std::invalid_argument naming the text.
std::chrono::seconds parse_duration(const std::string& text);

}  // namespace cpo::runtime
