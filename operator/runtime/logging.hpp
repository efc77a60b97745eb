// Logging setup: human-readable lines by default, one JSON object per line with
// --log-format=json for log pipelines.
#pragma once

#include <string>

namespace cpo::runtime {

enum class LogFormat { Text, Json };

// Parses "text" | "json"; throws std::invalid_argument otherwise.
LogFormat parse_log_format(const std::string& text);

// Configures the default spdlog logger (stderr). `level` is one of trace, debug,
// info, warn, error, critical, off; throws std::invalid_argument otherwise.
void setup_logging(LogFormat format, const std::string& level);

// Escapes a string for inclusion in a JSON string literal.
std::string json_escape(const std::string& text);

}  // namespace cpo::runtime
