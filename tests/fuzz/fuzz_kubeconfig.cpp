// Fuzz target: kubeconfig parsing (kube::parse_kubeconfig). Files the kubeconfig names
// are not opened: the injected reader returns a fixed text.
// Contract checked: parsing either returns a config with a server or throws ConfigError.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "kube/config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace cpo::kube;
  KubeconfigSource source;
  source.where = "kubeconfig fuzz";
  source.base_dir = "/nonexistent";
  source.read_file = [](const std::filesystem::path&, const std::string&) { return std::string("PEM"); };
  try {
    const ClusterConfig config = parse_kubeconfig(std::string_view(reinterpret_cast<const char*>(data), size), source);
    if (config.host.empty() || config.port.empty()) std::abort();
  } catch (const ConfigError&) {
  }
  return 0;
}
