// A fresh ServiceAccount identity holding exactly a chosen set of RBAC rules, and the
// API server's audit log of what that identity asked for and how it was answered.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "kube/client.hpp"
#include "support/test_cluster.hpp"

namespace cpo::testing::rbac {

using json = nlohmann::json;

// One request of the audit log, reduced to what the tests match on.
struct AuditRecord {
  std::string verb, resource, subresource, ns, name;
  int code = 0;
  std::string message;  // the answer's message (refusals carry one)
  std::string describe() const;
};

// The requests of one user in DIR/audit.log (JSON lines), from the moment this
// object is made; read incrementally as the API server appends them.
class AuditLog {
 public:
  AuditLog(std::filesystem::path file, std::string username);
  // Reads what was appended since the last call; returns every record so far.
  const std::vector<AuditRecord>& records();
  // The records so far, one a line (for failure messages).
  std::string summary();

 private:
  void read_from(const std::filesystem::path& file, std::uintmax_t offset);
  std::filesystem::path file_;
  std::string username_;
  std::uintmax_t offset_ = 0;
  std::vector<AuditRecord> records_;
};

// system:serviceaccount:NS:NAME (NAME random) with a bound token from the API server
// and a kubeconfig for it, holding `cluster_rules` through a ClusterRole and
// ClusterRoleBinding and `role_rules` through a Role and RoleBinding in NS. Every
// rule is in force (per SubjectAccessReview) once the constructor returns; the
// objects and the kubeconfig are removed at the end.
class ServiceAccountIdentity {
 public:
  ServiceAccountIdentity(const TestCluster& cluster, const std::string& ns, const json& cluster_rules,
                         const json& role_rules);
  ~ServiceAccountIdentity();
  ServiceAccountIdentity(const ServiceAccountIdentity&) = delete;
  ServiceAccountIdentity& operator=(const ServiceAccountIdentity&) = delete;

  const std::string& username() const { return username_; }
  const std::filesystem::path& kubeconfig() const { return kubeconfig_; }

 private:
  void write_kubeconfig(const TestCluster& cluster, const std::string& token);
  bool allowed(const json& rule, const std::string& ns);
  kube::Client admin_;
  std::string ns_, name_, username_;
  std::filesystem::path kubeconfig_;
};


}  // namespace cpo::testing::rbac
