// Logging setup: human-readable lines by default, one JSON object per line with
// --log-format=json for log pipelines.
#pragma once

#include <memory>
#include <string>

#include <spdlog/formatter.h>

namespace cpo::runtime {

enum class LogFormat { Text, Json };

// Parses "text" | "json"; throws std::invalid_argument otherwise.
LogFormat parse_log_format(const std::string& text);

// Configures the default spdlog logger (stderr). `level` is one of trace, debug,
// info, warn, error, critical, off; throws std::invalid_argument otherwise.
void setup_logging(LogFormat format, const std::string& level);

// The line layout of `format`: text, or one JSON object per line
// ({"ts","level","logger","msg"}; the message escaped so the line always parses).
std::unique_ptr<spdlog::formatter> log_formatter(LogFormat format);

}  // namespace cpo::runtime
