// Benchmark: idle. NODES realistic GPU Nodes (default 100) and the operator
// converged on the guide's config while every device-plugin pod crash-loops (the
// harness's fail-pods on its image): operands not ready, the state an operator is
// most tempted to poll in. Then SECONDS (default 600) with nothing changing: the
// writes its metrics count and the API server's audit log records for its identity
// (target 0), its reads, watch requests (reconnects), reconciles and CPU seconds.
// Prints figures; asserts nothing.
//
//   CPO_TEST_CLUSTER=DIR bench_idle [SECONDS] [NODES]
#include <cstdio>
#include <iostream>
#include <map>
#include <thread>

#include "bench_setup.hpp"
#include "fleet.hpp"
#include "process_figures.hpp"
#include "support/audit_log.hpp"
#include "support/operator_process.hpp"
#include "support/test_cluster.hpp"

using namespace cpo;
using json = nlohmann::json;
namespace audit = cpo::testing::audit;

namespace {

const std::string kNs = "gpu-operator";
const std::string kIdentity = "system:serviceaccount:gpu-operator:gpu-operator";

struct Figures {
  double writes = 0, reads = 0, reconciles = 0, cpu = 0;
};

Figures figures(const testing::OperatorProcess& op) {
  const std::string text = op.get(op.metrics_port(), "/metrics");
  Figures f;
  for (const char* method : {"POST", "PUT", "PATCH", "DELETE"}) {
    f.writes += bench::metric_sum(text, "rest_client_requests_total", {std::string("method=\"") + method + "\""});
  }
  f.reads = bench::metric_sum(text, "rest_client_requests_total", {"method=\"GET\""});
  f.reconciles = bench::metric_sum(text, "controller_runtime_reconcile_total");
  f.cpu = bench::figures_of(op.pid()).cpu_seconds;
  return f;
}

}  // namespace

int main(int argc, char** argv) {
  const int seconds = argc > 1 ? std::atoi(argv[1]) : 600;
  const int nodes = argc > 2 ? std::atoi(argv[2]) : 100;
  const auto& cluster = testing::TestCluster::get();
  kube::Client admin(cluster.admin_config());
  bench::prepare_operator_namespace(cluster, admin, kNs);
  bench::create_fleet(admin, nodes, 16);
  bench::must(cluster.kubectl("apply -n " + kNs + " -f " + std::string(CPO_SOURCE_DIR) + "/examples/mps-config-all.yaml"),
              "ConfigMap");
  bench::apply_guide_policy(cluster);
  testing::OperatorProcess op(cluster, cluster.identity_kubeconfig("gpu-operator", "gpu-operator"), kNs, {"--log-level=warn"});
  std::optional<json> plugin;
  testing::eventually([&] {
    plugin = admin.find(kube::resources::daemonsets, {kNs, "nvidia-device-plugin-daemonset", ""});
    return plugin.has_value();
  }, std::chrono::seconds(60));
  if (!plugin) {
    std::cerr << "bench: no device-plugin DaemonSet; operator log:\n" << op.log_tail();
    return 1;
  }
  const std::string image = (*plugin)["spec"]["template"]["spec"]["containers"][0]["image"];
  bench::must(cluster.harness("fail-pods", "--image " + image), "fail-pods");
  std::fprintf(stderr, "bench: device-plugin pods (%s) crash-loop; settling 30 s, then %d s idle\n", image.c_str(), seconds);
  std::this_thread::sleep_for(std::chrono::seconds(30));

  const Figures before = figures(op);
  const auto wall_from = std::chrono::system_clock::now();
  std::this_thread::sleep_for(std::chrono::seconds(seconds));
  const Figures after = figures(op);
  auto in_window = [&](const json& e) { return audit::user_of(e) == kIdentity && audit::received(e) >= wall_from; };
  std::map<std::string, long> verbs;
  std::string writes_seen;
  for (const auto& e : audit::completed(cluster, in_window)) {
    ++verbs[e.value("verb", "")];
    if (audit::is_write(e)) {
      const json ref = e.value("objectRef", json::object());
      std::string what = ref.value("resource", "");
      if (ref.contains("subresource")) what.append("/").append(ref.value("subresource", ""));
      writes_seen.append("    ").append(e.value("verb", "")).append(" ").append(what).append(" ");
      writes_seen.append(ref.value("name", "")).append(" at ").append(e.value("requestReceivedTimestamp", "")).append("\n");
    }
  }
  // A watch is long-running: it is logged when opened (ResponseStarted).
  const long watches_opened = static_cast<long>(audit::at_stage(cluster, "ResponseStarted", [&](const json& e) {
                                                  return in_window(e) && e.value("verb", "") == "watch";
                                                }).size());
  long audited_writes = 0;
  for (const char* verb : {"create", "update", "patch", "delete", "deletecollection"}) audited_writes += verbs[verb];
  const auto process = bench::figures_of(op.pid());

  std::printf("idle: %d s, %d GPU nodes, operands not ready (device-plugin pods crash-loop)\n", seconds, nodes);
  std::printf("  %-44s %10s   %s\n", "", "measured", "target");
  std::printf("  %-44s %10.0f   0\n", "writes (operator's rest_client metrics)", after.writes - before.writes);
  std::printf("  %-44s %10ld   0\n", "writes (API server audit log)", audited_writes);
  std::printf("  %-44s %10.0f\n", "GETs, watches included (operator's metrics)", after.reads - before.reads);
  std::printf("  %-44s %10ld\n", "watches opened (audit log: reconnects)", watches_opened);
  std::printf("  %-44s %10ld\n", "get + list (audit log)", verbs["get"] + verbs["list"]);
  std::printf("  %-44s %10.0f\n", "reconciles (all controllers)", after.reconciles - before.reconciles);
  std::printf("  %-44s %9.2fs   (%.3f %% of one core)\n", "CPU", after.cpu - before.cpu,
              100.0 * (after.cpu - before.cpu) / seconds);
  std::printf("  %-44s %7.1fMiB, %d threads\n", "RSS at the end", process.rss_mib, process.threads);
  if (!writes_seen.empty()) std::printf("  the writes the audit log recorded:\n%s", writes_seen.c_str());
  return 0;
}
