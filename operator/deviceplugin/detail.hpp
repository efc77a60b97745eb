// Internals of the device-plugin config validator, shared by its translation units.
#pragma once

#include "deviceplugin/config.hpp"
#include "util/utf8.hpp"

#include <yaml-cpp/yaml.h>

#include <cstddef>
#include <cstdint>
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

// How a scalar reads to the consumers (scalars.cpp): plain scalars resolve by YAML 1.1
// rules, quoted and block scalars are strings, yaml.org tags are honoured and other
// tags make a string.
enum class ScalarKind { Null, Bool, Int, Float, String, Invalid };

struct Scalar {
  ScalarKind kind = ScalarKind::Null;
  bool boolean = false;
  // Int, or a Float with an integral value: what an integer field receives, when it
  // fits in int64 (the consumers' JSON step writes an integral float as digits).
  std::optional<std::int64_t> integer;
  bool beyond_int64 = false;  // an integral value outside int64
  double number = 0;          // Int and Float
  std::string text;           // String: the value, tags applied (!!binary decoded)
  // Set when the consumers read the text differently from how it looks (010, yes,
  // 4.0, an explicit tag): the rest of a warning, e.g. "is read ... as 8".
  std::string unusual;
  std::string error;  // Invalid: why the consumers' YAML library refuses it
};

Scalar resolve(const YAML::Node& node);
bool has_explicit_tag(const YAML::Node& node);

// A node as messages show it: 2.5, "yes", the string "4", null, a list, a mapping.
std::string describe(const YAML::Node& node);
// Double-quoted, escaped (control characters, malformed UTF-8), shortened to a
// readable length: safe to put on one line of a message or a JSON status.
std::string quote(std::string_view text);
using util::utf8_sequence_length;
// The text as is when it is short printable ASCII without blanks, else quote(text).
std::string readable(std::string_view text);

std::optional<bool> as_bool(const YAML::Node& node);
// An integer (in any form the consumers take) that fits in int; `out_of_range` tells
// overflow apart.
std::optional<int> as_int(const YAML::Node& node, bool* out_of_range = nullptr);
// A scalar that reads as a string (not a boolean, number or null).
std::optional<std::string> as_string(const YAML::Node& node);

// The mark to report for a value: a null value points at the next token, so the
// mark of its key is used instead.
YAML::Mark value_mark(const YAML::Node& value, const YAML::Mark& key_mark);

// Go's time.ParseDuration: nanoseconds, or nullopt (with `overflow` set when the
// value is beyond int64 nanoseconds, about 292 years).
struct GoDuration {
  std::optional<std::int64_t> nanoseconds;
  bool overflow = false;
};
GoDuration parse_go_duration(std::string_view text);

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
// --- mappings (mapping.cpp) ------------------------------------------------------------

// How the consumers match the keys of a mapping: exactly (their custom decoders), or
// case-insensitively with Unicode simple folding (Go's encoding/json, for the keys of
// Go structs: the top level, flags, flags.plugin, flags.gfd, sharing, resources, imex).
enum class KeyMatch { Exact, Fold };

struct Entry {
  YAML::Node key;
  YAML::Node value;
  bool merged = false;  // came in through a `<<` merge key
};

// ASCII lower case, plus the two non-ASCII letters that fold onto ASCII ones
// (U+017F long s onto s, U+212A Kelvin sign onto k).
std::string fold_key(std::string_view key);
bool key_matches(std::string_view key, std::string_view name, KeyMatch match);
// The `<<` key whose value is not a mapping or a list of mappings (the consumers'
// parser refuses it), if any.
std::optional<YAML::Mark> invalid_merge(const YAML::Node& map);
// The entries in the order the consumers read them: each `<<` replaced by the entries
// of the mapping(s) it names. Of several entries of one name the last one is read.
std::vector<Entry> entries_of(const YAML::Node& map);
// Whether, of two keys that match one name, the consumers read `key` after `other`
// (given `key` comes later in the document): the one read last wins.
bool read_after(std::string_view key, std::string_view other, KeyMatch match);
// The entry the consumers read for `name` (the one read last), if any.
std::optional<Entry> find_entry(const YAML::Node& map, std::string_view name,
                                KeyMatch match = KeyMatch::Exact);

std::string index_path(std::string_view parent, std::size_t index);

// --- passes ---------------------------------------------------------------------------

// The one document of the text (a null node when there is none); problems reported
// and nullopt when the text is not exactly one well-formed YAML document.
std::optional<YAML::Node> parse_single_document(std::string_view text, Reporter& reporter);

// Known keys, duplicate keys, value types, enums and formats.
void check_schema(const YAML::Node& root, const ValidationContext& context, Reporter& reporter);

// Required fields, ranges, cross-field rules and what the consumers silently ignore.
ConfigSummary check_rules(const YAML::Node& root, const ValidationContext& context,
                          Reporter& reporter);

// resources_rules.cpp: the top-level resources entries, imex.channelIDs.
void check_top_level_resources(const YAML::Node& root, Reporter& reporter);
void check_imex(const YAML::Node& root, Reporter& reporter);

}  // namespace cpo::deviceplugin::detail
