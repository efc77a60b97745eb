// What every operator benchmark sets up first, as the end-to-end tests do: the
// ClusterPolicy CRD (established), the operator namespace, the chart's RBAC for
// the identity the operator runs as.
#pragma once

#include <stdexcept>
#include <string>

#include "kube/client.hpp"
#include "support/operator_process.hpp"
#include "support/test_cluster.hpp"

namespace cpo::bench {

inline void must(const testing::CommandResult& result, const std::string& what) {
  if (result.exit_code != 0) throw std::runtime_error(what + ": " + result.output);
}

inline void prepare_operator_namespace(const testing::TestCluster& cluster, kube::Client& admin, const std::string& ns) {
  must(cluster.kubectl("apply -f " + std::string(CPO_SOURCE_DIR) + "/crds/nvidia.com_clusterpolicies.yaml"), "CRD");
  must(cluster.kubectl("wait --for=condition=Established crd/clusterpolicies.nvidia.com --timeout=30s"), "CRD");
  if (!admin.find(kube::resources::namespaces, {"", ns, ""})) {
    admin.create(kube::resources::namespaces, {{"metadata", {{"name", ns}}}});
  }
  testing::grant_chart_rbac(cluster, ns, "gpu-operator", "gpu-operator");
}

// The guide's ClusterPolicy: the minimal example, its device plugin on the ConfigMap
// mps-config-all (which the caller creates) with mps-any by default.
inline void apply_guide_policy(const testing::TestCluster& cluster) {
  must(cluster.kubectl("apply -f " + std::string(CPO_SOURCE_DIR) + "/examples/clusterpolicy-minimal.yaml"), "ClusterPolicy");
  must(cluster.kubectl("patch clusterpolicies.nvidia.com/cluster-policy --type merge -p "
                       "'{\"spec\": {\"devicePlugin\": {\"config\": {\"name\": \"mps-config-all\", \"default\": \"mps-any\"}}}}'"),
       "config");
}

}  // namespace cpo::bench
