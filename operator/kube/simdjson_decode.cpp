#include "kube/simdjson_decode.hpp"

namespace cpo::kube::detail {

nlohmann::json to_json(simdjson::dom::element element, const FieldMask& mask) {
  using simdjson::dom::element_type;
  switch (element.type()) {
    case element_type::OBJECT: {
      nlohmann::json object = nlohmann::json::object();
      for (auto [key, value] : element.get_object()) {
        // Assigned, not emplaced: a key given twice keeps its last value, as nlohmann::json reads it.
        if (const FieldMask* kept = mask.field(key)) object[std::string(key)] = to_json(value, *kept);
      }
      return object;
    }
    case element_type::ARRAY: {
      nlohmann::json array = nlohmann::json::array();
      for (simdjson::dom::element value : element.get_array()) array.push_back(to_json(value, mask));
      return array;
    }
    case element_type::STRING:
      return std::string(element.get_string().value_unsafe());
    case element_type::INT64: {
      // As nlohmann::json reads them: unsigned when not negative.
      const std::int64_t number = element.get_int64().value_unsafe();
      if (number >= 0) return static_cast<std::uint64_t>(number);
      return number;
    }
    case element_type::UINT64:
      return element.get_uint64().value_unsafe();
    case element_type::DOUBLE:
      return element.get_double().value_unsafe();
    case element_type::BOOL:
      return element.get_bool().value_unsafe();
    case element_type::NULL_VALUE:
      break;
  }
  return nullptr;
}

}  // namespace cpo::kube::detail
