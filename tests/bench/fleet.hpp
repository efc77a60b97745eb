// A fleet of realistic GPU Nodes for the benchmarks (realistic_node.hpp), created
// and changed from many threads at once.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "kube/client.hpp"
#include "realistic_node.hpp"

namespace cpo::bench {

inline std::string node_name(int i) {
  char name[32];
  std::snprintf(name, sizeof name, "fleet-%05d", i);
  return name;
}

// Runs work(i) for i in [0, count) on `threads` threads; returns the seconds it took.
template <typename Work>
double in_parallel(int count, int threads, Work work) {
  std::atomic<int> next{0};
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      for (int i = next++; i < count; i = next++) work(i);
    });
  }
  for (auto& t : pool) t.join();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// A PATCH of node `i`'s labels, sent again once if the connection broke first (a
// pooled keep-alive connection the server closed just then).
inline void patch_node_labels(kube::Client& client, int i, const nlohmann::json& labels) {
  const nlohmann::json patch = {{"metadata", {{"labels", labels}}}};
  try {
    client.patch(kube::resources::nodes, {"", node_name(i), ""}, kube::PatchType::Merge, patch);
  } catch (const kube::TransportError&) {
    client.patch(kube::resources::nodes, {"", node_name(i), ""}, kube::PatchType::Merge, patch);
  }
}

inline void create_fleet(kube::Client& client, int nodes, int concurrency) {
  in_parallel(nodes, concurrency, [&](int i) {
    const std::string name = node_name(i);
    try {
      client.create(kube::resources::nodes, {{"metadata", {{"name", name}, {"labels", bench::realistic_labels(name, i)}}}});
      client.patch(kube::resources::nodes, {"", name, "status"}, kube::PatchType::Merge,
                   {{"status", bench::realistic_status(i)}});
    } catch (const kube::ApiError& e) {
      if (!e.is_already_exists()) std::fprintf(stderr, "%s: %s\n", name.c_str(), e.what());
    }
  });
}

}  // namespace cpo::bench
