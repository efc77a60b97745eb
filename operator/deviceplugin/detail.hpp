// Internals of the device-plugin config validator, shared by its translation units.
#pragma once

#include "deviceplugin/config.hpp"

#include <yaml-cpp/yaml.h>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cpo::deviceplugin::detail {

// Collects the problems of one document.
class Reporter {
 public:
  explicit Reporter(std::string key) : key_(std::move(key)) {}

  void error(std::string path, std::string message, const YAML::Mark& mark);
  void warning(std::string path, std::string message, const YAML::Mark& mark);
  void add(Severity severity, std::string path, std::string message, int line, int column);

  // Problems ordered by position (unknown positions first), at most
  // kMaxProblemsPerDocument of them; the last one says how many were left out.
  std::vector<Problem> take();

 private:
  std::string key_;
  std::vector<Problem> problems_;
};

// A reason to refuse the text before it reaches the YAML parser.
struct ScanFinding {
  std::string message;
  int line = 0;
  int column = 0;
};

// Refuses documents that are too large, nest too deeply, use anchors/aliases or
// carry a scalar over several lines.
std::optional<ScanFinding> prescan(std::string_view text);

// --- scalar values -----------------------------------------------------------------

// How a scalar reads: plain scalars resolve like YAML 1.1 (what the consumers use),
// quoted and block scalars are always strings.
enum class ScalarKind { Null, Bool, Yaml11Bool, Int, Float, String, Tagged };

ScalarKind classify(const YAML::Node& node);
bool has_explicit_tag(const YAML::Node& node);

// A node as messages show it: 2.5, "yes", the string "4", null, a list, a mapping.
std::string describe(const YAML::Node& node);
// Double-quoted, escaped (control characters, malformed UTF-8), shortened to a
// readable length: safe to put on one line of a message or a JSON status.
std::string quote(std::string_view text);
// The text as is when it is short printable ASCII without blanks, else quote(text).
std::string readable(std::string_view text);

std::optional<bool> as_bool(const YAML::Node& node);
// A plain decimal integer that fits in int; `out_of_range` tells overflow apart.
std::optional<int> as_int(const YAML::Node& node, bool* out_of_range = nullptr);
// A scalar that reads as a string (not a plain boolean, number or null).
std::optional<std::string> as_string(const YAML::Node& node);

// The mark to report for a value: a null value points at the next token, so the
// mark of its key is used instead.
YAML::Mark value_mark(const YAML::Node& value, const YAML::Mark& key_mark);

enum class DurationCheck { Ok, Invalid, Negative };
DurationCheck check_go_duration(std::string_view text);

bool is_dns1123_subdomain(std::string_view text);

// A resource name as the device plugin reads it: "gpu" becomes "nvidia.com/gpu".
struct ResourceNameCheck {
  std::string full;
  std::optional<std::string> error;
};
ResourceNameCheck check_resource_name(std::string_view raw);

inline constexpr std::string_view kResourcePrefix = "nvidia.com/";
inline constexpr std::string_view kGpuResource = "nvidia.com/gpu";
inline constexpr std::string_view kMigResourcePrefix = "nvidia.com/mig-";

// A devices value (`all`, a count, or a list of indexes/UUIDs); problems are
// reported with their own paths.
void check_devices(const YAML::Node& node, const std::string& path, const YAML::Mark& key_mark,
                   Reporter& reporter);

std::string join_path(std::string_view parent, std::string_view key);
std::string index_path(std::string_view parent, std::size_t index);

// --- passes ---------------------------------------------------------------------------

// The one document of the text (a null node when there is none); problems reported
// and nullopt when the text is not exactly one well-formed YAML document.
std::optional<YAML::Node> parse_single_document(std::string_view text, Reporter& reporter);

// Known keys, duplicate keys, value types, enums and formats.
void check_schema(const YAML::Node& root, Reporter& reporter);

// Required fields, ranges, cross-field rules and what the consumers silently ignore.
ConfigSummary check_rules(const YAML::Node& root, const ValidationContext& context,
                          Reporter& reporter);

}  // namespace cpo::deviceplugin::detail
