// The operator tests' environment: CRD, namespace, the chart's RBAC, two GPU nodes
// and a CPU node, no ClusterPolicy left over, and a running operator under the
// chart's identity; with what the tests read back (DaemonSets, status, metrics).
#pragma once

#include <catch2/catch.hpp>

#include <memory>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "kube/client.hpp"
#include "support/operator_process.hpp"
#include "support/test_cluster.hpp"

namespace cpo::testing::operators {

using json = nlohmann::json;

inline const std::string kNs = "gpu-operator";
inline const std::string kDevicePlugin = "nvidia-device-plugin-daemonset";
inline const std::string kMps = "nvidia-device-plugin-mps-control-daemon";
inline const std::string kGfd = "gpu-feature-discovery";

inline std::string repo(const std::string& path) { return std::string(CPO_SOURCE_DIR) + "/" + path; }

// Everything a test needs: CRD, namespace, RBAC, nodes, no ClusterPolicy left
// over, and a running operator under the chart's identity.
struct Environment {
  const TestCluster& cluster = TestCluster::get();
  kube::Client admin{cluster.admin_config()};
  std::unique_ptr<testing::OperatorProcess> op;

  explicit Environment(const std::vector<std::string>& operator_args = {}) {
    run("apply -f " + repo("crds/nvidia.com_clusterpolicies.yaml"));
    REQUIRE(cluster.kubectl("wait --for=condition=Established crd/clusterpolicies.nvidia.com --timeout=30s").exit_code == 0);
    if (!admin.find(kube::resources::namespaces, {"", kNs, ""})) {
      admin.create(kube::resources::namespaces, {{"metadata", {{"name", kNs}}}});
    }
    testing::grant_chart_rbac(cluster, kNs, "gpu-operator", "gpu-operator");
    add_node("gpu-node-1", "nvidia.com/gpu.present=true nvidia.com/mps.capable=true");
    add_node("gpu-node-2", "nvidia.com/gpu.present=true");
    add_node("cpu-node-1", "");
    cluster.kubectl("apply -f - <<'EOF'\napiVersion: node.k8s.io/v1\nkind: RuntimeClass\nmetadata:\n  name: nvidia\nhandler: nvidia\nEOF");
    remove_all_policies();
    op = std::make_unique<testing::OperatorProcess>(
        cluster, cluster.identity_kubeconfig("gpu-operator", "gpu-operator"), kNs, operator_args);
  }
  ~Environment() {
    if (op) op->stop();
    remove_all_policies();
  }

  testing::CommandResult run(const std::string& args, bool must_succeed = true) {
    auto result = cluster.kubectl(args);
    if (must_succeed) {
      INFO("kubectl " << args << "\n" << result.output);
      REQUIRE(result.exit_code == 0);
    }
    return result;
  }
  void add_node(const std::string& name, const std::string& labels) {
    if (admin.find(kube::resources::nodes, {"", name, ""})) return;
    auto result = cluster.harness("add-node", name + " " + labels);
    INFO(result.output);
    REQUIRE(result.exit_code == 0);
  }
  void remove_all_policies() {
    cluster.kubectl("delete clusterpolicies.nvidia.com --all --wait=true --timeout=60s");
    // The garbage collector removes the operands; wait so tests do not see leftovers.
    REQUIRE(testing::eventually([&] {
      return admin.list(kube::resources::daemonsets, kNs)["items"].empty();
    }, std::chrono::seconds(60)));
  }
  std::optional<json> daemonset(const std::string& name) {
    return admin.find(kube::resources::daemonsets, {kNs, name, ""});
  }
  json wait_daemonset(const std::string& name) {
    std::optional<json> ds;
    INFO("waiting for DaemonSet " << name << "; operator log:\n" << op->log_tail());
    REQUIRE(testing::eventually([&] { return (ds = daemonset(name)).has_value(); }, std::chrono::seconds(30)));
    return *ds;
  }
  void rollout(const std::string& name) {
    auto result = cluster.kubectl("-n " + kNs + " rollout status daemonset/" + name + " --timeout=90s");
    INFO(result.output << "\noperator log:\n" << op->log_tail());
    REQUIRE(result.exit_code == 0);
  }
  json policy(const std::string& name = "cluster-policy") {
    return admin.get(kube::resources::clusterpolicies, {"", name, ""});
  }
  bool policy_state(const std::string& state, const std::string& name = "cluster-policy") {
    auto p = admin.find(kube::resources::clusterpolicies, {"", name, ""});
    return p && p->contains("status") && (*p)["status"].value("state", "") == state;
  }
  static const json* container(const json& ds, const std::string& name) {
    for (const auto& c : ds["spec"]["template"]["spec"]["containers"]) {
      if (c["name"] == name) return &c;
    }
    return nullptr;
  }
  static std::string env_value(const json& container, const std::string& name) {
    for (const auto& e : container.value("env", json::array())) {
      if (e["name"] == name) return e.value("value", "");
    }
    return "<unset>";
  }
};


// The sum of controller_runtime_reconcile_total of one controller of the operator.
inline double reconciles(const OperatorProcess& op, const std::string& controller = "clusterpolicy") {
  static const std::regex line(R"re(^controller_runtime_reconcile_total\{([^}]*)\} ([0-9.e+]+)$)re");
  std::istringstream in(op.get(op.metrics_port(), "/metrics"));
  double total = 0;
  std::string row;
  while (std::getline(in, row)) {
    std::smatch m;
    if (std::regex_match(row, m, line) && m[1].str().find("controller=\"" + controller + "\"") != std::string::npos) {
      total += std::stod(m[2]);
    }
  }
  return total;
}


}  // namespace cpo::testing::operators
