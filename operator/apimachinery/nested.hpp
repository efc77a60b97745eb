// Reading fields of a JSON object by path, as k8s.io/apimachinery's
// unstructured.Nested* functions do: {"metadata", "name"} is metadata.name.
//
// Contract: never throws. A path that is missing, passes through something that is
// not an object, or ends at a value of another type reads as the fallback; a JSON
// document from the API server can be read without checking each step first.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace cpo::apimachinery {

using FieldPath = std::initializer_list<std::string_view>;

// The value at `path`, or nullptr.
const nlohmann::json* nested_field(const nlohmann::json& object, FieldPath path);

std::string nested_string(const nlohmann::json& object, FieldPath path, const std::string& fallback = "");
long nested_int(const nlohmann::json& object, FieldPath path, long fallback = 0);  // integers only
// The strings of the list at `path` (items of other types skipped).
std::vector<std::string> nested_strings(const nlohmann::json& object, FieldPath path);

}  // namespace cpo::apimachinery
