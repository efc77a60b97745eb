#include "apimachinery/nested.hpp"

namespace cpo::apimachinery {

const nlohmann::json* nested_field(const nlohmann::json& object, FieldPath path) {
  const nlohmann::json* at = &object;
  for (std::string_view key : path) {
    if (!at->is_object()) return nullptr;
    auto it = at->find(key);
    if (it == at->end()) return nullptr;
    at = &*it;
  }
  return at;
}

std::string nested_string(const nlohmann::json& object, FieldPath path, const std::string& fallback) {
  const nlohmann::json* value = nested_field(object, path);
  return value && value->is_string() ? value->get<std::string>() : fallback;
}

long nested_int(const nlohmann::json& object, FieldPath path, long fallback) {
  const nlohmann::json* value = nested_field(object, path);
  return value && value->is_number_integer() ? value->get<long>() : fallback;
}

std::vector<std::string> nested_strings(const nlohmann::json& object, FieldPath path) {
  std::vector<std::string> out;
  const nlohmann::json* value = nested_field(object, path);
  if (!value || !value->is_array()) return out;
  for (const auto& item : *value) {
    if (item.is_string()) out.push_back(item.get<std::string>());
  }
  return out;
}

}  // namespace cpo::apimachinery
