// Fuzz target: YAML -> JSON (util::read_yaml through apimachinery::yaml_to_json).
// Contract checked: any text either reads or throws YamlError, in bounded time;
// what reads is written back by json_to_yaml and reads back equal.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "apimachinery/yaml_json.hpp"

namespace {

bool has_nan(const nlohmann::json& value) {
  if (value.is_number_float()) return std::isnan(value.get<double>());
  for (const auto& item : value) {
    if ((item.is_structured() || item.is_number_float()) && has_nan(item)) return true;
  }
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  using namespace cpo::apimachinery;
  try {
    (void)yaml_to_ordered_json(text);
  } catch (const YamlError&) {
  }
  std::vector<nlohmann::json> documents;
  try {
    documents = yaml_documents_to_json(text);
  } catch (const YamlError&) {
    return 0;
  }
  for (const nlohmann::json& document : documents) {
    // Strings holding malformed UTF-8 cannot come from the reader (libyaml refuses
    // such input), so everything read can be written and read back unchanged.
    const std::string written = json_to_yaml(document);
    if (has_nan(document)) continue;  // NaN equals nothing, itself included
    if (yaml_to_json(written) != document) std::abort();
  }
  return 0;
}
