#include "kube/list_page.hpp"

#include <stdexcept>

#include "kube/simdjson_decode.hpp"

namespace cpo::kube {

namespace {

std::string string_field(simdjson::dom::object object, std::string_view key) {
  std::string_view value;
  if (object[key].get_string().get(value) != simdjson::SUCCESS) return {};
  return std::string(value);
}

// Whole-document decode, for what simdjson refuses.
ListPage decode_with_nlohmann(const std::string& body, const FieldMask& item_fields) {
  nlohmann::json list = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (list.is_discarded() || !list.is_object()) throw std::invalid_argument("the list is not a JSON object");
  ListPage page;
  if (auto meta = list.find("metadata"); meta != list.end() && meta->is_object()) {
    page.resource_version = meta->value("resourceVersion", "");
    page.continue_token = meta->value("continue", "");
  }
  if (auto items = list.find("items"); items != list.end() && items->is_array()) {
    page.items.reserve(items->size());
    for (auto& item : *items) {
      item_fields.prune(item);
      page.items.push_back(std::move(item));
    }
  }
  return page;
}

}  // namespace

ListPage decode_list_page(const std::string& body, const FieldMask& item_fields) {
  simdjson::dom::parser parser;
  simdjson::dom::element document;
  if (parser.parse(body).get(document) != simdjson::SUCCESS || !document.is_object()) {
    return decode_with_nlohmann(body, item_fields);
  }
  ListPage page;
  simdjson::dom::object list = document.get_object().value_unsafe();
  simdjson::dom::object meta;
  if (list["metadata"].get_object().get(meta) == simdjson::SUCCESS) {
    page.resource_version = string_field(meta, "resourceVersion");
    page.continue_token = string_field(meta, "continue");
  }
  simdjson::dom::array items;
  if (list["items"].get_array().get(items) == simdjson::SUCCESS) {
    page.items.reserve(items.size());
    for (simdjson::dom::element item : items) page.items.push_back(detail::to_json(item, item_fields));
  }
  return page;
}

}  // namespace cpo::kube
