// Fuzz target: the device-plugin config validator on a whole ConfigMap's data, as the
// controller runs it. The input is a ConfigMap manifest; when it is not one, the
// whole input is one config under the key "config".
// Contract checked: validate_configmap never throws and reports each problem with
// its key.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "clusterpolicy/snapshot.hpp"
#include "apimachinery/yaml_json.hpp"
#include "deviceplugin/config.hpp"

namespace {

std::map<std::string, std::string> data_of(std::string_view text) {
  try {
    const nlohmann::json manifest = cpo::apimachinery::yaml_to_json(text);
    if (manifest.is_object() && manifest.contains("data")) return cpo::clusterpolicy::configmap_data(manifest);
  } catch (const cpo::apimachinery::YamlError&) {
  }
  return {{"config", std::string(text)}};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace cpo::deviceplugin;
  const auto configs = data_of(std::string_view(reinterpret_cast<const char*>(data), size));
  ValidationContext context;
  if (size > 0 && data[0] % 3 == 0) context.mig_strategy_override = "mixed";
  std::optional<std::string> default_key;
  if (!configs.empty()) default_key = configs.begin()->first;
  const std::vector<NodeSelection> nodes = {{"node-a", "", 7, 0}, {"node-b", "config", 8, 0}};
  const ConfigMapResult result = validate_configmap(configs, default_key, nodes, context, "fuzz");
  for (const Problem& problem : result.problems) {
    if (!problem.key.empty() && configs.count(problem.key) == 0) std::abort();
    (void)format(problem);
  }
  return 0;
}
