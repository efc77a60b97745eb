// YAML text <-> nlohmann::json.
//
// Reading follows the YAML 1.2 core schema: a plain (unquoted) scalar becomes null, a
// boolean, an integer or a float when it spells one (`~`, `true`, `4`, `0x1f`, `1.5`,
// `.inf`), anything quoted or written as a block scalar stays a string (`"4"` is the
// string "4"). The explicit tags !!str, !!int, !!float, !!bool and !!null are honoured.
// Duplicate keys, non-scalar keys and other tags are errors.
//
// Writing produces block-style YAML in the layout kubectl prints (sequences under a key
// are not indented further), keys in the object's iteration order: sorted for
// nlohmann::json, insertion order for nlohmann::ordered_json. A string is quoted exactly
// when it would otherwise read back as something else under YAML 1.2 or YAML 1.1 (so
// "true", "yes", "1", "0x10", "" and ": x" are quoted); multi-line strings become
// literal block scalars (`|`, `|-`, `|+`).
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace cpo::apimachinery {

// A YAML text that cannot be represented as JSON. what() includes the location when known.
class YamlError : public std::runtime_error {
 public:
  YamlError(const std::string& message, int line, int column);
  int line() const { return line_; }      // 1-based; 0 = unknown
  int column() const { return column_; }  // 1-based; 0 = unknown

 private:
  int line_;
  int column_;
};

// Exactly one document (an empty text or one with only comments gives null).
// More than one document is an error.
nlohmann::json yaml_to_json(std::string_view yaml);
nlohmann::ordered_json yaml_to_ordered_json(std::string_view yaml);

// Every document of a multi-document text, in order.
std::vector<nlohmann::json> yaml_documents_to_json(std::string_view yaml);

// One YAML document for `value`, ending with a newline (no leading "---").
std::string json_to_yaml(const nlohmann::json& value);
std::string json_to_yaml(const nlohmann::ordered_json& value);

}  // namespace cpo::apimachinery
