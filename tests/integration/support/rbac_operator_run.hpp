// One run of the operator binary under a fresh ServiceAccount identity holding a
// chosen set of RBAC rules, in every mode a rule of the chart may be needed for:
// leader election (a Lease of its own), HTTPS /metrics, and a ClusterPolicy whose
// device plugin reads a config ConfigMap (so config-manager's RBAC is rendered).
// With what a test reads back: readiness, the operands, the ClusterPolicy's status,
// Events, a scrape of /metrics, and the identity's requests in the audit log.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "kube/client.hpp"
#include "support/operator_process.hpp"
#include "support/rbac_identity.hpp"
#include "support/test_cluster.hpp"

namespace cpo::testing::rbac {

inline const std::string kNs = "gpu-operator";
inline const std::string kPolicy = "cluster-policy";
inline const std::string kConfigMap = "rbac-needed-config";

// An MPS config of the device plugin (replicas below 2 is an invalid one).
std::string mps_doc(int replicas);

class OperatorRun {
 public:
  // Prepares the cluster (CRD, namespace, nodes, RuntimeClass, the config ConfigMap,
  // the ClusterPolicy, a scraper allowed to get /metrics), then starts the operator
  // as a new identity holding exactly `cluster_rules` and `role_rules`.
  OperatorRun(const json& cluster_rules, const json& role_rules);
  // Stops the operator; removes the ClusterPolicy, what it owns, the ConfigMap, the
  // Lease, the scraper and the identity.
  ~OperatorRun();
  OperatorRun(const OperatorRun&) = delete;
  OperatorRun& operator=(const OperatorRun&) = delete;

  // GET /readyz: the status code, and the body in `body`.
  int readyz(std::string& body) const;
  std::optional<json> find(const kube::Resource& resource, const std::string& ns, const std::string& name);
  json policy();
  // The ClusterPolicy's condition of `type` (an empty object when it has none).
  json condition(const std::string& type);
  // The Events in `ns` about the object whose uid is `uid`.
  std::vector<json> events_about(const std::string& ns, const std::string& uid);
  // The HTTP status of a scrape of /metrics with a token allowed to get it ("000": no answer).
  std::string scrape() const;
  void set_config(const std::string& doc);
  // The identity's requests so far, and the end of the operator's log.
  std::string evidence();

  const TestCluster& cluster;
  kube::Client admin;
  const std::string lease;
  std::unique_ptr<ServiceAccountIdentity> identity;
  std::unique_ptr<AuditLog> audit;
  std::unique_ptr<OperatorProcess> op;

 private:
  void prepare();
  void add_node(const std::string& name, const std::string& labels);
  void kubectl(const std::string& args);
  void remove_leftovers();
  std::string scraper_token_;
};

}  // namespace cpo::testing::rbac
