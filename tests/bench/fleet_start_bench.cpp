// Benchmark: an operator starting on a GPU fleet. Creates NODES KWOK Nodes shaped
// like GPU nodes (realistic_node.hpp), with a ClusterPolicy in place, then starts
// the operator and measures start -> ready, start -> every operand DaemonSet
// applied, start -> every node labelled (and the labelled count over time), and
// the process's resident memory, peak, threads and CPU seconds once converged.
//
// Beside it, the floor measured in the same run before the operator starts: the
// same number of label PATCHes sent by one plain client at the same concurrency
// (the API server's own pace on this machine). Prints figures; asserts nothing
// about time (these machines are noisy).
//
//   CPO_TEST_CLUSTER=DIR bench_fleet_start [NODES] [CONCURRENCY] [CURVE.csv]
//   (defaults 1000 and 16; CURVE.csv gets "seconds,labelled" rows)
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <thread>

#include "bench_setup.hpp"
#include "clusterpolicy/node_cache.hpp"
#include "fleet.hpp"
#include "process_figures.hpp"
#include "kube/client.hpp"
#include "realistic_node.hpp"
#include "runtime/informer.hpp"
#include "support/operator_process.hpp"
#include "support/test_cluster.hpp"

using namespace cpo;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

const std::string kNs = "gpu-operator";
const std::string kDeployLabel = "nvidia.com/gpu.deploy.device-plugin";

}  // namespace

int main(int argc, char** argv) {
  const int nodes = argc > 1 ? std::atoi(argv[1]) : 1000;
  const int concurrency = argc > 2 ? std::atoi(argv[2]) : 16;
  const std::string curve_file = argc > 3 ? argv[3] : "";
  const auto& cluster = testing::TestCluster::get();
  kube::Client admin(cluster.admin_config());

  bench::prepare_operator_namespace(cluster, admin, kNs);

  std::fprintf(stderr, "bench: creating %d GPU nodes\n", nodes);
  bench::create_fleet(admin, nodes, concurrency);

  // The floor: the same PATCHes from one plain client, `concurrency` in flight.
  const double floor_seconds = nodes == 0 ? 0 : bench::in_parallel(nodes, concurrency, [&](int i) {
    admin.patch(kube::resources::nodes, {"", bench::node_name(i), ""}, kube::PatchType::Merge,
                {{"metadata", {{"labels", {{"bench.clusterpolicy-operator.dev/floor", "true"}}}}}});
  });

  // The floor of start -> operands: the API server handing over every Node, listed
  // as the operator's Node cache lists them (same page size, same fields kept).
  const auto node_options = clusterpolicy::node_cache_options();
  const auto listing_started = Clock::now();
  for (kube::ListOptions page{.limit = node_options.page_size};;) {
    auto listed = admin.list_page(kube::resources::nodes, "", page, node_options.fields);
    if (listed.continue_token.empty()) break;
    page.continue_token = std::move(listed.continue_token);
  }
  const double list_seconds = std::chrono::duration<double>(Clock::now() - listing_started).count();

  bench::must(cluster.kubectl("apply -f " + std::string(CPO_SOURCE_DIR) + "/examples/clusterpolicy.yaml"), "ClusterPolicy");

  // What the bench watches: the operand DaemonSets and the labelled nodes.
  std::mutex mutex;
  std::vector<double> labelled_at;
  std::optional<double> operands_at;
  std::set<std::string> daemonsets_seen;
  Clock::time_point start;
  auto since_start = [&] { return std::chrono::duration<double>(Clock::now() - start).count(); };
  runtime::Informer labelled(admin, kube::resources::nodes, {.label_selector = kDeployLabel + "=true", .metadata_only = true});
  labelled.add_handler({[&](const runtime::ObjectPtr&) {
                          std::lock_guard lock(mutex);
                          labelled_at.push_back(since_start());
                        },
                        nullptr, nullptr});
  runtime::Informer daemonsets(admin, kube::resources::daemonsets, {.ns = kNs, .metadata_only = true});
  daemonsets.add_handler({[&](const runtime::ObjectPtr& ds) {
                            std::lock_guard lock(mutex);
                            daemonsets_seen.insert((*ds)["metadata"].value("name", ""));
                            if (daemonsets_seen.size() == 3 && !operands_at) operands_at = since_start();
                          },
                          nullptr, nullptr});

  std::fprintf(stderr, "bench: starting the operator\n");
  start = Clock::now();
  labelled.start();
  daemonsets.start();
  testing::OperatorProcess op(cluster, cluster.identity_kubeconfig("gpu-operator", "gpu-operator"), kNs,
                              {"--log-level=warn", "--node-label-concurrency=" + std::to_string(concurrency)});
  std::optional<double> ready_at;
  const auto deadline = Clock::now() + std::chrono::minutes(10);
  for (;;) {
    if (!ready_at) {
      int code = 0;
      op.get(op.health_port(), "/readyz", &code);
      if (code == 200) ready_at = since_start();
    }
    {
      std::lock_guard lock(mutex);
      if (ready_at && operands_at && static_cast<int>(labelled_at.size()) >= nodes) break;
    }
    if (Clock::now() > deadline || !op.running()) {
      std::cerr << "bench: did not converge; operator log:\n" << op.log_tail();
      return 1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::this_thread::sleep_for(std::chrono::seconds(2));  // what settling costs counts as well
  const bench::ProcessFigures process = bench::figures_of(op.pid());

  std::lock_guard lock(mutex);
  const double labelled_all = labelled_at.empty() ? 0 : labelled_at.back();
  const double first_label = labelled_at.empty() ? 0 : labelled_at.front();
  const double label_rate = nodes > 1 && labelled_all > first_label ? (nodes - 1) / (labelled_all - first_label) : 0;
  const double floor_rate = floor_seconds > 0 ? nodes / floor_seconds : 0;
  std::printf("fleet start: %d GPU nodes, %d label PATCHes in flight\n", nodes, concurrency);
  std::printf("  %-40s %10s   %s\n", "", "measured", "target");
  std::printf("  %-40s %9.2fs\n", "start -> ready (/readyz 200)", ready_at.value_or(0));
  std::printf("  %-40s %9.2fs   <= 1 s\n", "start -> 3 operand DaemonSets applied", operands_at.value_or(0));
  std::printf("  %-40s %9.2fs   (pages of %ld, plain client)\n", "floor: listing the Nodes", list_seconds,
              node_options.page_size);
  std::printf("  %-40s %9.2fs\n", "start -> every node labelled", labelled_all);
  if (nodes > 0) {
    std::printf("  %-40s %8.0f/s   >= 0.8 x floor (%.2f x)\n", "labelling rate (first to last label)", label_rate,
                floor_rate > 0 ? label_rate / floor_rate : 0);
    std::printf("  %-40s %8.0f/s   (%d PATCHes in %.2f s, plain client)\n", "floor: the API server's pace", floor_rate,
                nodes, floor_seconds);
  }
  std::printf("  %-40s %7.1fMiB   <= %s\n", "RSS once converged", process.rss_mib, nodes >= 1000 ? "24 MiB" : "10 MiB");
  std::printf("  %-40s %7.1fMiB\n", "RSS peak", process.peak_mib);
  std::printf("  %-40s %10d   %s\n", "threads", process.threads, nodes >= 1000 ? "" : "<= 8");
  std::printf("  %-40s %9.2fs   <= 5 s\n", "CPU (user + system) to converge", process.cpu_seconds);
  if (!curve_file.empty()) {
    std::ofstream curve(curve_file);
    curve << "seconds,labelled\n";
    for (std::size_t i = 0; i < labelled_at.size(); ++i) curve << labelled_at[i] << "," << (i + 1) << "\n";
  }
  labelled.stop();
  daemonsets.stop();
  return 0;
}
