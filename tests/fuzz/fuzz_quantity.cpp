// Fuzz target: the Kubernetes quantity comparison of apply_diff (resources.limits and
// requests are compared by value: "1000m" equals "1"). The input is two quantities
// separated by a newline.
// Contract checked: no crash; a quantity always equals itself.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "clusterpolicy/apply_diff.hpp"

namespace {

nlohmann::json container_with(const std::string& cpu) {
  return {{"resources", {{"limits", {{"cpu", cpu}}}, {"requests", {{"memory", cpu}}}}}};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const std::size_t newline = text.find('\n');
  const std::string a = text.substr(0, newline);
  const std::string b = newline == std::string::npos ? a : text.substr(newline + 1);
  const nlohmann::json live = container_with(a);
  const nlohmann::json desired = container_with(b);
  if (!cpo::clusterpolicy::contains(live, live)) std::abort();
  const bool same = cpo::clusterpolicy::contains(live, desired);
  if (same != cpo::clusterpolicy::first_difference(live, desired).empty()) std::abort();
  return 0;
}
