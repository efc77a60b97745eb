// Reading YAML text into JSON values, within limits: the one YAML reader for what the
// operator is handed (manifests given to `render` and `validate`, kubeconfig files).
// It is built on libyaml's event parser (no recursion, no node graph): the JSON values
// are built from the events, and the limits below are checked as the events arrive, so
// a hostile text costs at most about its own size in time and memory.
//
// Scalars follow the YAML 1.2 core schema: a plain (unquoted) scalar becomes null, a
// boolean, an integer or a float when it spells one (`~`, `true`, `4`, `0x1f`, `1.5`,
// `.inf`); anything quoted or written as a block scalar stays a string (`"4"` is the
// string "4"). The explicit tags !!str, !!int, !!float, !!bool, !!null, !!seq and !!map
// are honoured; other tags, duplicate keys and keys that are null or collections are
// errors. Aliases are expanded (a copy of the anchored value); `<<` is an ordinary key.
//
// Contract: read_yaml either returns or throws YamlError, whatever the text.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace cpo::util {

// A text that is not YAML, or that JSON cannot represent, or that is beyond a limit.
// what() includes the location when known: "... (line 3, column 1)".
class YamlError : public std::runtime_error {
 public:
  YamlError(const std::string& message, int line, int column);
  int line() const { return line_; }      // 1-based; 0 = unknown
  int column() const { return column_; }  // 1-based; 0 = unknown

 private:
  int line_;
  int column_;
};

struct YamlLimits {
  std::size_t max_bytes = std::size_t{4} << 20;  // the text
  std::size_t max_depth = 128;                   // collections inside collections
  std::size_t max_documents = 1000;
  std::size_t max_alias_nodes = 100000;  // nodes that all aliases together add
  std::size_t max_alias_bytes = std::size_t{16} << 20;  // scalar text they add
  // (anchored values, which are kept as copies, may hold ten times either)
};

// Every document of the text, in order (none for an empty text or only comments; a
// document with no content is null).
std::vector<nlohmann::json> read_yaml(std::string_view text, const YamlLimits& limits = {});
// The same, keys in the order written.
std::vector<nlohmann::ordered_json> read_yaml_ordered(std::string_view text,
                                                      const YamlLimits& limits = {});

}  // namespace cpo::util
