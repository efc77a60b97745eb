// Benchmark: coalescing. NODES realistic GPU Nodes (default 1000) and the operator
// converged on the guide's config; then three bursts of one label change per node,
// 16 in flight:
//   1. a label the operator does not read          -> no reconcile, no write
//   2. the config-selection label (an existing config) -> the ClusterPolicy
//      reconciled a handful of times, its status the only write
//   3. the GPU gone (nvidia.com/gpu.present=false, NFD's NVIDIA PCI label removed)
//      -> one label write per node (its deploy labels go), the ClusterPolicy
//      reconciled a handful of times
// For each: seconds until the operator is quiet again, reconciles per controller,
// the writes its own metrics count and the writes the API server's audit log
// recorded for its identity, beside the target. Prints figures; asserts nothing.
//
//   CPO_TEST_CLUSTER=DIR bench_coalescing [NODES]
#include <cstdio>
#include <functional>
#include <iostream>
#include <thread>

#include "bench_setup.hpp"
#include "fleet.hpp"
#include "process_figures.hpp"
#include "support/audit_log.hpp"
#include "support/operator_process.hpp"
#include "support/test_cluster.hpp"

using namespace cpo;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;
namespace audit = cpo::testing::audit;

namespace {

const std::string kNs = "gpu-operator";
const std::string kIdentity = "system:serviceaccount:gpu-operator:gpu-operator";

struct Counters {
  double policy_reconciles = 0, node_reconciles = 0, writes = 0;
};

Counters counters(const testing::OperatorProcess& op) {
  const std::string text = op.get(op.metrics_port(), "/metrics");
  Counters c;
  c.policy_reconciles = bench::metric_sum(text, "controller_runtime_reconcile_total", {"controller=\"clusterpolicy\""});
  c.node_reconciles = bench::metric_sum(text, "controller_runtime_reconcile_total", {"controller=\"node-labels\""});
  for (const char* method : {"POST", "PUT", "PATCH", "DELETE"}) {
    c.writes += bench::metric_sum(text, "rest_client_requests_total", {std::string("method=\"") + method + "\""});
  }
  return c;
}

// Waits until the counters have not moved for `quiet`; returns the seconds since `since`
// at their last move.
double settle(const testing::OperatorProcess& op, Clock::time_point since, std::chrono::seconds quiet) {
  Counters last = counters(op);
  auto moved = Clock::now();
  while (Clock::now() - moved < quiet) {
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    const Counters now = counters(op);
    if (now.policy_reconciles != last.policy_reconciles || now.node_reconciles != last.node_reconciles ||
        now.writes != last.writes) {
      moved = Clock::now();
      last = now;
    }
  }
  return std::chrono::duration<double>(moved - since).count();
}

long audited_writes(const testing::TestCluster& cluster, std::chrono::system_clock::time_point from,
                    std::chrono::system_clock::time_point to) {
  return static_cast<long>(audit::completed(cluster, [&](const json& e) {
                             const auto at = audit::received(e);
                             return audit::user_of(e) == kIdentity && audit::is_write(e) && at >= from && at < to;
                           }).size());
}

struct Burst {
  std::string what, target;
  json labels;  // the merge patch sent to every node
};

}  // namespace

int main(int argc, char** argv) {
  const int nodes = argc > 1 ? std::atoi(argv[1]) : 1000;
  const auto& cluster = testing::TestCluster::get();
  kube::Client admin(cluster.admin_config());
  bench::prepare_operator_namespace(cluster, admin, kNs);
  std::fprintf(stderr, "bench: creating %d GPU nodes\n", nodes);
  bench::create_fleet(admin, nodes, 16);
  admin.apply(kube::resources::configmaps,
              {{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"metadata", {{"name", "mps-config-all"}, {"namespace", kNs}}},
               {"data", {{"mps-any", "version: v1\nsharing:\n  mps:\n    resources:\n    - name: nvidia.com/gpu\n      replicas: 4\n"},
                         {"mps-two", "version: v1\nsharing:\n  mps:\n    resources:\n    - name: nvidia.com/gpu\n      replicas: 2\n"}}}},
              "bench");
  bench::apply_guide_policy(cluster);

  testing::OperatorProcess op(cluster, cluster.identity_kubeconfig("gpu-operator", "gpu-operator"), kNs, {"--log-level=warn"});
  std::fprintf(stderr, "bench: waiting for the operator to converge\n");
  // Converged: every operand pod on every node ready, then the operator quiet.
  const bool ready = testing::eventually([&] {
    const json list = admin.list(kube::resources::daemonsets, kNs);
    if (list["items"].size() != 3) return false;
    for (const auto& ds : list["items"]) {
      const json status = ds.value("status", json::object());
      if (status.value("desiredNumberScheduled", 0) != nodes || status.value("numberReady", 0) != nodes) return false;
    }
    return true;
  }, std::chrono::minutes(10));
  if (!ready) {
    std::cerr << "bench: the operands never became ready on every node; operator log:\n" << op.log_tail();
    return 1;
  }
  settle(op, Clock::now(), std::chrono::seconds(5));

  const std::vector<Burst> bursts = {
      {"a label the operator does not read", "0 reconciles, 0 writes", {{"bench.clusterpolicy-operator.dev/burst", "1"}}},
      {"config selection (nvidia.com/device-plugin.config)", "a handful of ClusterPolicy reconciles; status writes only",
       {{"nvidia.com/device-plugin.config", "mps-two"}}},
      {"GPU gone (gpu.present=false, NFD's PCI label removed)", "1 write per node; a handful of CP reconciles",
       {{"nvidia.com/gpu.present", "false"}, {"feature.node.kubernetes.io/pci-10de.present", nullptr}}},
  };
  std::printf("coalescing: %d GPU nodes, one label change per node per burst, 16 in flight\n", nodes);
  std::printf("  %-52s %8s %10s %10s %8s %8s   %s\n", "burst", "settled", "CP recs", "node recs", "writes", "audited",
              "target");
  for (const auto& burst : bursts) {
    const Counters before = counters(op);
    const auto wall_from = std::chrono::system_clock::now();
    const auto from = Clock::now();
    bench::in_parallel(nodes, 16, [&](int i) { bench::patch_node_labels(admin, i, burst.labels); });
    const double settled = settle(op, from, std::chrono::seconds(5));
    const Counters after = counters(op);
    const long audited = audited_writes(cluster, wall_from, std::chrono::system_clock::now());
    std::printf("  %-52s %7.1fs %10.0f %10.0f %8.0f %8ld   %s\n", burst.what.c_str(), settled,
                after.policy_reconciles - before.policy_reconciles, after.node_reconciles - before.node_reconciles,
                after.writes - before.writes, audited, burst.target.c_str());
  }
  const bench::ProcessFigures process = bench::figures_of(op.pid());
  std::printf("  operator: RSS %.1f MiB (peak %.1f), %d threads, %.2f CPU s in all\n", process.rss_mib,
              process.peak_mib, process.threads, process.cpu_seconds);
  return 0;
}
