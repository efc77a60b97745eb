// Fuzz target: the ClusterPolicy spec parser. The input is read as YAML (the `render -f`
// path) or, when it starts with '{', as JSON (the API server's path); a whole
// manifest (an object with kind and spec) gives its spec.
// Contract checked: parse_spec either returns or throws SpecError, whose path starts
// with "spec" and whose message is valid UTF-8.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "clusterpolicy/spec.hpp"
#include "apimachinery/yaml_json.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  using namespace cpo::clusterpolicy;
  using namespace cpo::apimachinery;
  nlohmann::json spec;
  if (!text.empty() && text.front() == '{') {
    spec = nlohmann::json::parse(text, nullptr, false);
    if (spec.is_discarded()) return 0;
  } else {
    try {
      spec = yaml_to_json(text);
    } catch (const YamlError&) {
      return 0;
    }
  }
  if (spec.is_object() && spec.contains("kind") && spec.contains("spec")) spec = spec["spec"];
  try {
    const ClusterPolicySpec parsed = parse_spec(spec);
    (void)resolve_image(parsed.device_plugin.image, "nvcr.io/nvidia/k8s-device-plugin:v0.17.1", "spec.devicePlugin");
  } catch (const SpecError& e) {
    if (e.path.rfind("spec", 0) != 0) std::abort();
    (void)nlohmann::json(std::string(e.what())).dump();  // throws (and so fails) on malformed UTF-8
  }
  return 0;
}
