// Benchmark: how long from a device-plugin ConfigMap edit until every consumer
// DaemonSet's pod template carries the new config hash, against the real
// apiserver, beside the apiserver's own round trip for one ConfigMap write
// measured in the same run, and beside the floor of the chain measured directly
// (a snapshot create, then three DaemonSet applies in parallel, with no operator
// in between). Prints figures; asserts nothing about time.
//
// It also checks the write budget of an edit: exactly one snapshot created and
// one template change per DaemonSet.
//
//   CPO_TEST_CLUSTER=DIR bench_config_rollout [EDITS] [SAMPLES.csv]   (default 200 edits;
//   SAMPLES.csv gets "edit,floor_ms,acknowledged_ms,sent_ms" rows, for the plot)
#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "clusterpolicy/snapshot.hpp"
#include "bench_setup.hpp"
#include "kube/client.hpp"
#include "runtime/informer.hpp"
#include "support/operator_process.hpp"
#include "support/test_cluster.hpp"

using namespace cpo;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

const std::string kNs = "gpu-operator";
const std::vector<std::string> kConsumers = {"nvidia-device-plugin-daemonset", "nvidia-device-plugin-mps-control-daemon",
                                             "gpu-feature-discovery"};

std::string doc(int edit) {
  return "version: v1\n# edit " + std::to_string(edit) + "\nsharing:\n  mps:\n    resources:\n    - name: nvidia.com/gpu\n"
         "      replicas: " + std::to_string(2 + edit % 40) + "\n";
}

double percentile(std::vector<double> values, double p) {
  std::sort(values.begin(), values.end());
  if (values.empty()) return 0;
  std::size_t index = static_cast<std::size_t>(p * (values.size() - 1) + 0.5);
  return values[std::min(index, values.size() - 1)];
}

}  // namespace

int main(int argc, char** argv) {
  const int edits = argc > 1 ? std::atoi(argv[1]) : 200;
  const std::string samples_file = argc > 2 ? argv[2] : "";
  const auto& cluster = testing::TestCluster::get();
  kube::Client admin(cluster.admin_config());

  // The same setting as the end-to-end tests: CRD, namespace, chart RBAC, GPU nodes.
  bench::prepare_operator_namespace(cluster, admin, kNs);
  for (const char* node : {"bench-gpu-1", "bench-gpu-2"}) {
    if (!admin.find(kube::resources::nodes, {"", node, ""})) {
      bench::must(cluster.harness("add-node", std::string(node) + " nvidia.com/gpu.present=true nvidia.com/mps.capable=true"), "node");
    }
  }
  cluster.kubectl("delete clusterpolicies.nvidia.com --all --wait=true");

  std::cerr << "bench: starting the operator\n";
  testing::OperatorProcess op(cluster, cluster.identity_kubeconfig("gpu-operator", "gpu-operator"), kNs,
                              {"--log-level=warn"});

  // Watch the consumers: note when all three templates carry a given hash.
  std::mutex mutex;
  std::condition_variable cv;
  std::map<std::string, std::string> template_hash;
  std::map<std::string, long> generation;
  std::atomic<int> snapshots_created{0};
  runtime::Informer daemonsets(admin, kube::resources::daemonsets, {.ns = kNs});
  auto note = [&](const runtime::ObjectPtr& ds) {
    std::lock_guard lock(mutex);
    const std::string name = (*ds)["metadata"]["name"];
    template_hash[name] = (*ds)["spec"]["template"]["metadata"].value("annotations", json::object())
                              .value("clusterpolicy-operator.dev/config-hash", "");
    generation[name] = (*ds)["metadata"].value("generation", 0L);
    cv.notify_all();
  };
  daemonsets.add_handler({note, [&](const runtime::ObjectPtr&, const runtime::ObjectPtr& ds) { note(ds); }, nullptr});
  runtime::Informer snapshots(admin, kube::resources::configmaps,
                              {.ns = kNs, .label_selector = "clusterpolicy-operator.dev/config-source=bench-config"});
  snapshots.add_handler({[&](const runtime::ObjectPtr&) { ++snapshots_created; }, nullptr, nullptr});
  daemonsets.start();
  snapshots.start();
  daemonsets.wait_for_sync(std::chrono::seconds(10));
  snapshots.wait_for_sync(std::chrono::seconds(10));

  auto all_carry = [&](const std::string& hash) {
    for (const auto& name : kConsumers) {
      auto it = template_hash.find(name);
      if (it == template_hash.end() || it->second != hash) return false;
    }
    return true;
  };
  auto wait_for_hash = [&](const std::string& hash) {
    std::unique_lock lock(mutex);
    return cv.wait_for(lock, std::chrono::seconds(30), [&] { return all_carry(hash); });
  };
  auto set_config = [&](int edit) {
    json cm = {{"apiVersion", "v1"}, {"kind", "ConfigMap"},
               {"metadata", {{"name", "bench-config"}, {"namespace", kNs}}}, {"data", {{"mps", doc(edit)}}}};
    admin.apply(kube::resources::configmaps, cm, "bench");
    return clusterpolicy::config_hash({{{"mps", doc(edit)}}, "mps", "none"});
  };

  std::cerr << "bench: caches synced; rolling out the first config\n";
  // The starting point: a config rolled out.
  std::string hash = set_config(0);
  bench::must(cluster.kubectl("apply -f - <<'EOF'\napiVersion: nvidia.com/v1\nkind: ClusterPolicy\nmetadata:\n  name: cluster-policy\n"
                       "spec:\n  devicePlugin:\n    config: {name: bench-config, default: mps}\nEOF"),
       "ClusterPolicy");
  if (!wait_for_hash(hash)) {
    std::cerr << "the first config never reached the DaemonSets; operator log:\n" << op.log_tail();
    return 1;
  }
  std::this_thread::sleep_for(std::chrono::seconds(2));
  std::map<std::string, long> generation_before;
  {
    std::lock_guard lock(mutex);
    generation_before = generation;
  }
  const int snapshots_before = snapshots_created;
  admin.apply(kube::resources::configmaps,
              {{"metadata", {{"name", "bench-probe"}, {"namespace", kNs}}}, {"data", {{"n", "0"}}}}, "bench");

  std::cerr << "bench: " << edits << " edits\n";
  // A DaemonSet shaped like the device plugin's, on no node: its server-side
  // apply round trip is the other half of what an edit costs.
  json probe_ds = admin.get(kube::resources::daemonsets, {kNs, kConsumers[0], ""});
  probe_ds = {{"apiVersion", "apps/v1"}, {"kind", "DaemonSet"},
              {"metadata", {{"name", "bench-probe"}, {"namespace", kNs}}},
              {"spec", {{"selector", {{"matchLabels", {{"app", "bench-probe"}}}}},
                        {"template", probe_ds["spec"]["template"]}}}};
  probe_ds["spec"]["template"]["metadata"]["labels"] = {{"app", "bench-probe"}};
  probe_ds["spec"]["template"]["spec"]["nodeSelector"] = {{"bench.example/none", "true"}};
  std::vector<double> ds_apply_ms;

  // The floor, measured: what the chain costs when a client that already knows
  // the new content just does the two sequential steps itself: create one
  // snapshot-sized ConfigMap, then apply three consumer-shaped DaemonSets in
  // parallel (on no node, so no pods roll behind them).
  std::vector<json> floor_ds;
  for (int i = 0; i < 3; ++i) {
    json ds = probe_ds;
    const std::string name = "bench-floor-" + std::to_string(i);
    ds["metadata"]["name"] = name;
    ds["spec"]["selector"]["matchLabels"]["app"] = name;
    ds["spec"]["template"]["metadata"]["labels"]["app"] = name;
    floor_ds.push_back(ds);
  }
  std::vector<std::unique_ptr<kube::Client>> floor_clients;
  for (int i = 0; i < 3; ++i) floor_clients.push_back(std::make_unique<kube::Client>(cluster.admin_config()));
  auto floor_chain = [&](int edit) {
    const std::string cm_name = "bench-floor-" + std::to_string(edit);
    floor_clients[0]->create(kube::resources::configmaps,
                             {{"metadata", {{"name", cm_name}, {"namespace", kNs}}}, {"immutable", true},
                              {"data", {{"mps", doc(edit)}}}});
    std::vector<std::thread> writers;
    for (int i = 0; i < 3; ++i) {
      writers.emplace_back([&, i] {
        json ds = floor_ds[i];
        ds["spec"]["template"]["metadata"]["annotations"]["bench"] = cm_name;
        floor_clients[i]->apply(kube::resources::daemonsets, ds, "bench");
      });
    }
    for (auto& w : writers) w.join();
  };
  floor_chain(0);  // creates the DaemonSets: only changes are timed
  std::vector<double> floor_ms;

  std::vector<double> rtt_ms, from_ack_ms, from_send_ms;
  for (int edit = 1; edit <= edits; ++edit) {
    // The apiserver's round trip for one ConfigMap write (etcd's fsync dominates it).
    auto p0 = Clock::now();
    admin.patch(kube::resources::configmaps, {kNs, "bench-probe", ""}, kube::PatchType::Merge,
                {{"data", {{"n", std::to_string(edit)}}}});
    rtt_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - p0).count());
    probe_ds["spec"]["template"]["metadata"]["annotations"]["bench"] = std::to_string(edit);
    auto a0 = Clock::now();
    admin.apply(kube::resources::daemonsets, probe_ds, "bench");
    ds_apply_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - a0).count());

    auto f0 = Clock::now();
    floor_chain(edit);
    floor_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - f0).count());
    admin.remove(kube::resources::configmaps, {kNs, "bench-floor-" + std::to_string(edit - 1), ""});
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // let the floor's writes settle

    auto sent = Clock::now();
    hash = set_config(edit);
    auto acknowledged = Clock::now();
    if (!wait_for_hash(hash)) {
      std::lock_guard lock(mutex);
      for (const auto& [name, h] : template_hash) std::cerr << "  " << name << " carries " << h.substr(0, 10) << "\n";
      std::cerr << "edit " << edit << " (" << hash.substr(0, 10) << ") never reached every DaemonSet\n" << op.log_tail();
      return 1;
    }
    auto done = Clock::now();
    from_ack_ms.push_back(std::chrono::duration<double, std::milli>(done - acknowledged).count());
    from_send_ms.push_back(std::chrono::duration<double, std::milli>(done - sent).count());
    std::this_thread::sleep_for(std::chrono::milliseconds(250));  // status, events, pruning settle
  }
  std::this_thread::sleep_for(std::chrono::seconds(1));

  const double rtt50 = percentile(rtt_ms, 0.5), rtt99 = percentile(rtt_ms, 0.99);
  const double ack50 = percentile(from_ack_ms, 0.5), ack99 = percentile(from_ack_ms, 0.99);
  std::printf("config rollout benchmark: %d ConfigMap edits, 3 consumer DaemonSets, 2 nodes\n", edits);
  std::printf("  one ConfigMap write (apiserver round trip): p50 %7.2f ms   p99 %7.2f ms\n", rtt50, rtt99);
  std::printf("  one DaemonSet server-side apply (template change):  p50 %7.2f ms   p99 %7.2f ms\n",
              percentile(ds_apply_ms, 0.5), percentile(ds_apply_ms, 0.99));
  const double floor50 = percentile(floor_ms, 0.5), floor99 = percentile(floor_ms, 0.99);
  std::printf("  floor: 1 ConfigMap create, then 3 DaemonSet applies in parallel, by one client: p50 %7.2f ms (%.2fx)   p99 %7.2f ms (%.2fx)\n",
              floor50, floor50 / rtt50, floor99, floor99 / rtt99);
  std::printf("  edit acknowledged -> all templates carry the new hash: p50 %7.2f ms (%.2fx floor)   p99 %7.2f ms (%.2fx floor)   max %7.2f ms\n",
              ack50, ack50 / floor50, ack99, ack99 / floor99, percentile(from_ack_ms, 1.0));
  std::printf("  edit sent -> all templates carry the new hash:         p50 %7.2f ms (%.2fx floor)   p99 %7.2f ms (%.2fx floor)\n",
              percentile(from_send_ms, 0.5), percentile(from_send_ms, 0.5) / floor50, percentile(from_send_ms, 0.99),
              percentile(from_send_ms, 0.99) / floor99);
  std::printf("  targets (from the acknowledged edit): p50 <= 1.10x the floor's p50, p99 <= 1.5x the floor's p99\n");
  if (!samples_file.empty()) {
    std::ofstream samples(samples_file);
    samples << "edit,floor_ms,acknowledged_ms,sent_ms\n";
    for (std::size_t i = 0; i < from_ack_ms.size(); ++i) {
      samples << i + 1 << "," << floor_ms[i] << "," << from_ack_ms[i] << "," << from_send_ms[i] << "\n";
    }
  }

  int status = 0;
  std::printf("  snapshots created: %d for %d edits\n", snapshots_created - snapshots_before, edits);
  if (snapshots_created - snapshots_before != edits) status = 1;
  daemonsets.stop();  // no handler runs after this: the maps are ours
  snapshots.stop();
  for (const auto& name : kConsumers) {
    long changes = generation[name] - generation_before[name];
    std::printf("  %s: %ld template changes for %d edits\n", name.c_str(), changes, edits);
    if (changes != edits) status = 1;
  }
  std::fflush(stdout);
  op.stop();
  cluster.kubectl("delete clusterpolicies.nvidia.com --all --wait=true");
  cluster.kubectl("-n " + kNs + " delete configmap bench-config bench-probe --ignore-not-found");
  cluster.kubectl("-n " + kNs + " delete daemonset bench-probe bench-floor-0 bench-floor-1 bench-floor-2 --ignore-not-found");
  cluster.kubectl("-n " + kNs + " delete configmap bench-floor-" + std::to_string(edits) + " --ignore-not-found");
  if (status != 0) std::printf("  WRITE BUDGET EXCEEDED\n");
  return status;
}
