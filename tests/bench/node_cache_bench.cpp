// Benchmark: memory of the Node cache. Creates N Node objects with a realistic
// status (images, conditions, capacity: kilobytes each), then measures the
// resident memory an informer adds: the operator's Node cache (node_cache.hpp),
// metadata only with the label filter alone, and whole objects.
//
//   CPO_TEST_CLUSTER=DIR bench_node_cache [NODES]     (default 5000)
// (scripts/bench node-cache runs it on a fresh control plane without the
// simulated kubelet, whose heartbeats would rewrite every node's status.)
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>
#include <malloc.h>
#include <unistd.h>

#include "clusterpolicy/node_cache.hpp"
#include "kube/client.hpp"
#include "runtime/informer.hpp"
#include "realistic_node.hpp"
#include "support/test_cluster.hpp"

using namespace cpo;
using json = nlohmann::json;

namespace {

// Resident memory after returning freed heap pages to the system, so the figure
// is what the cache keeps, not the peak of decoding list pages.
double rss_mib() {
  malloc_trim(0);
  std::ifstream statm("/proc/self/statm");
  double size = 0, resident = 0;
  statm >> size >> resident;
  return resident * static_cast<double>(sysconf(_SC_PAGESIZE)) / (1024.0 * 1024.0);
}

}  // namespace

int main(int argc, char** argv) {
  const int nodes = argc > 1 ? std::atoi(argv[1]) : 5000;
  const auto& cluster = testing::TestCluster::get();
  kube::ClientOptions options;
  kube::Client client(cluster.admin_config(), options);

  std::fprintf(stderr, "bench: creating %d nodes\n", nodes);
  std::vector<std::thread> writers;
  for (int w = 0; w < 8; ++w) {
    writers.emplace_back([&, w] {
      for (int i = w; i < nodes; i += 8) {
        std::string name = "bench-node-" + std::to_string(i);
        const json labels = bench::realistic_labels(name, i);
        try {
          client.create(kube::resources::nodes, {{"metadata", {{"name", name}, {"labels", labels}}}});
          client.patch(kube::resources::nodes, {"", name, "status"}, kube::PatchType::Merge, {{"status", bench::realistic_status(i)}});
        } catch (const kube::ApiError& e) {
          if (!e.is_already_exists()) std::fprintf(stderr, "%s: %s\n", name.c_str(), e.what());
        }
      }
    });
  }
  for (auto& t : writers) t.join();
  const json one = client.get(kube::resources::nodes, {"", "bench-node-0", ""});
  const std::size_t object_bytes = one.dump().size();

  auto measure = [&](const char* what, runtime::InformerOptions informer_options) {
    const double before = rss_mib();
    runtime::Informer informer(client, kube::resources::nodes, std::move(informer_options));
    informer.start();
    informer.wait_for_sync(std::chrono::minutes(5));
    const std::size_t cached = informer.store().size();
    const double after = rss_mib();
    std::size_t json_bytes = 0;
    for (const auto& node : informer.store().list()) json_bytes += node->dump().size();
    std::printf("  %-44s %6zu nodes cached, RSS +%7.1f MiB (%6.0f bytes per node; %5zu bytes of JSON each)\n", what,
                cached, after - before, (after - before) * 1024 * 1024 / static_cast<double>(cached),
                json_bytes / std::max<std::size_t>(cached, 1));
    informer.stop();
  };
  std::printf("node cache benchmark: %d Nodes of ~%zu bytes each (JSON)\n", nodes, object_bytes);
  runtime::InformerOptions slim;
  slim.metadata_only = true;
  slim.transform = [](json& node) {
    auto& meta = node["metadata"];
    json kept = json::object();
    for (auto it = meta["labels"].begin(); it != meta["labels"].end(); ++it) {
      if (it.key().rfind("nvidia.com/", 0) == 0 || it.key() == "feature.node.kubernetes.io/pci-10de.present") kept[it.key()] = *it;
    }
    node = {{"metadata", {{"name", meta.value("name", "")}, {"resourceVersion", meta.value("resourceVersion", "")},
                          {"labels", std::move(kept)}}}};
  };
  measure("the operator's Node cache (+ nvidia.com/* capacity)", clusterpolicy::node_cache_options());
  measure("metadata only + the label filter (no capacity)", slim);
  measure("whole objects (what a plain informer keeps)", {});

  std::fprintf(stderr, "bench: deleting the nodes\n");
  writers.clear();
  for (int w = 0; w < 8; ++w) {
    writers.emplace_back([&, w] {
      for (int i = w; i < nodes; i += 8) {
        try {
          client.remove(kube::resources::nodes, {"", "bench-node-" + std::to_string(i), ""});
        } catch (const std::exception&) {
        }
      }
    });
  }
  for (auto& t : writers) t.join();
  return 0;
}
