// YAML text <-> nlohmann::json.
//
// Reading is util::read_yaml's (util/yaml_read.hpp): the YAML 1.2 core schema for
// scalars (`4` is a number, `"4"` a string), duplicate keys, non-scalar keys and
// unknown tags are errors, and hostile texts (alias bombs, deep nesting, endless
// documents, huge texts) are refused within limits. It throws YamlError only.
//
// Writing produces block-style YAML in the layout kubectl prints (sequences under a key
// are not indented further), keys in the object's iteration order: sorted for
// nlohmann::json, insertion order for nlohmann::ordered_json. A string is quoted exactly
// when it would otherwise read back as something else under YAML 1.2 or YAML 1.1 (so
// "true", "yes", "1", "0x10", "" and ": x" are quoted); multi-line strings become
// literal block scalars (`|`, `|-`, `|+`). Control characters and the code points YAML
// cannot carry raw (C1 controls, NEL, LS, PS, the BOM, U+FFFE/U+FFFF) are escaped in
// double quotes, so whatever is written reads back equal.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "util/yaml_read.hpp"

namespace cpo::apimachinery {

// A YAML text that cannot be read as JSON. what() includes the location when known.
using util::YamlError;

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
