#include "support/rbac_operator_run.hpp"

#include <fstream>
#include <random>
#include <stdexcept>

#include "clusterpolicy/render.hpp"
#include "clusterpolicy/vocabulary.hpp"

namespace cpo::testing::rbac {

namespace fs = std::filesystem;

namespace {

const std::string kScraper = "rbac-needed-scraper";

std::string lease_name() {
  std::random_device rd;
  return "rbac-needed-lease-" + std::to_string(rd() % 1000000);
}

bool empty(kube::Client& admin, const kube::Resource& resource, const std::string& ns, const std::string& selector) {
  return admin.list(resource, ns, kube::ListOptions{.label_selector = selector})["items"].empty();
}

}  // namespace

std::string mps_doc(int replicas) {
  return "version: v1\nsharing:\n  mps:\n    resources:\n    - name: nvidia.com/gpu\n      replicas: " +
         std::to_string(replicas) + "\n";
}

OperatorRun::OperatorRun(const json& cluster_rules, const json& role_rules)
    : cluster(TestCluster::get()), admin(cluster.admin_config()), lease(lease_name()) {
  prepare();
  identity = std::make_unique<ServiceAccountIdentity>(cluster, kNs, cluster_rules, role_rules);
  audit = std::make_unique<AuditLog>(cluster.dir() / "audit.log", identity->username());
  op = std::make_unique<OperatorProcess>(
      cluster, identity->kubeconfig(), kNs,
      std::vector<std::string>{"--leader-elect", "--leader-election-id=" + lease, "--metrics-secure=true"});
}

OperatorRun::~OperatorRun() {
  op.reset();
  cluster.kubectl("delete clusterpolicies.nvidia.com " + kPolicy + " --ignore-not-found --wait=true --timeout=60s");
  cluster.kubectl("-n " + kNs + " delete configmap " + kConfigMap + " --ignore-not-found");
  cluster.kubectl("-n " + kNs + " delete lease " + lease + " --ignore-not-found");
  cluster.kubectl("-n " + kNs + " delete serviceaccount " + kScraper + " --ignore-not-found");
  cluster.kubectl("delete clusterrolebinding,clusterrole " + kScraper + " --ignore-not-found");
  try {
    remove_leftovers();
  } catch (const std::exception&) {
    // The next run waits for them again and fails there, with the reason.
  }
  identity.reset();
}

void OperatorRun::kubectl(const std::string& args) {
  auto result = cluster.kubectl(args);
  if (result.exit_code != 0) throw std::runtime_error("kubectl " + args + ": " + result.output);
}

void OperatorRun::add_node(const std::string& name, const std::string& labels) {
  if (admin.find(kube::resources::nodes, {"", name, ""})) return;
  auto result = cluster.harness("add-node", name + " " + labels);
  if (result.exit_code != 0) throw std::runtime_error("add-node " + name + ": " + result.output);
}

// No ClusterPolicy, and nothing one owned still in the cluster (the garbage
// collector removes the operands after their owner).
void OperatorRun::remove_leftovers() {
  cluster.kubectl("delete clusterpolicies.nvidia.com --all --wait=true --timeout=60s");
  const bool clean = eventually([&] {
    const std::string managed = clusterpolicy::kManagedBySelector;
    return empty(admin, kube::resources::daemonsets, kNs, managed) &&
           empty(admin, kube::resources::serviceaccounts, kNs, managed) &&
           empty(admin, kube::resources::clusterroles, "", managed) &&
           empty(admin, kube::resources::clusterrolebindings, "", managed) &&
           empty(admin, kube::resources::configmaps, kNs, clusterpolicy::kSnapshotSourceLabel);
  }, std::chrono::seconds(60));
  if (!clean) throw std::runtime_error("objects of an earlier ClusterPolicy are still in the cluster");
}

void OperatorRun::prepare() {
  kubectl("apply -f " + shell_quote(std::string(CPO_SOURCE_DIR) + "/crds/nvidia.com_clusterpolicies.yaml"));
  kubectl("wait --for=condition=Established crd/clusterpolicies.nvidia.com --timeout=30s");
  // A namespace still terminating (deleted by an earlier test) takes no new objects.
  if (!eventually([&] {
        auto ns = admin.find(kube::resources::namespaces, {"", kNs, ""});
        return !ns || (*ns)["status"].value("phase", "") != "Terminating";
      }, std::chrono::seconds(60))) {
    throw std::runtime_error("namespace " + kNs + " is still terminating");
  }
  if (!admin.find(kube::resources::namespaces, {"", kNs, ""})) {
    admin.create(kube::resources::namespaces, {{"metadata", {{"name", kNs}}}});
  }
  add_node("gpu-node-1", "nvidia.com/gpu.present=true nvidia.com/mps.capable=true");
  add_node("gpu-node-2", "nvidia.com/gpu.present=true");
  kubectl("apply -f - <<'EOF'\napiVersion: node.k8s.io/v1\nkind: RuntimeClass\nmetadata:\n  name: nvidia\n"
          "handler: nvidia\nEOF");
  remove_leftovers();
  set_config(mps_doc(2));
  admin.create(kube::resources::clusterpolicies,
               {{"apiVersion", "nvidia.com/v1"},
                {"kind", "ClusterPolicy"},
                {"metadata", {{"name", kPolicy}}},
                {"spec", {{"devicePlugin", {{"config", {{"name", kConfigMap}, {"default", "mps-any"}}}}}}}});
  kubectl("apply -f - <<'EOF'\n"
          "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: " + kScraper + "\n  namespace: " + kNs + "\n---\n"
          "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: " + kScraper + "\n"
          "rules:\n- nonResourceURLs: [\"/metrics\"]\n  verbs: [\"get\"]\n---\n"
          "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata:\n  name: " + kScraper + "\n"
          "roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: " + kScraper + "}\n"
          "subjects:\n- {kind: ServiceAccount, name: " + kScraper + ", namespace: " + kNs + "}\nEOF");
  scraper_token_ = bound_token(cluster, kNs, kScraper);
}

void OperatorRun::set_config(const std::string& doc) {
  admin.apply(kube::resources::configmaps,
              {{"apiVersion", "v1"},
               {"kind", "ConfigMap"},
               {"metadata", {{"name", kConfigMap}, {"namespace", kNs}}},
               {"data", {{"mps-any", doc}}}},
              "rbac-needed-test");
}

int OperatorRun::readyz(std::string& body) const {
  int status = 0;
  body = op->get(op->health_port(), "/readyz", &status);
  return status;
}

std::optional<json> OperatorRun::find(const kube::Resource& resource, const std::string& ns, const std::string& name) {
  return admin.find(resource, {ns, name, ""});
}

json OperatorRun::policy() { return admin.get(kube::resources::clusterpolicies, {"", kPolicy, ""}); }

json OperatorRun::condition(const std::string& type) {
  for (const auto& c : policy().value("status", json::object()).value("conditions", json::array())) {
    if (c.value("type", "") == type) return c;
  }
  return json::object();
}

std::vector<json> OperatorRun::events_about(const std::string& ns, const std::string& uid) {
  auto list = admin.list(kube::resources::events, ns, kube::ListOptions{.field_selector = "involvedObject.uid=" + uid});
  return list["items"].get<std::vector<json>>();
}

std::string OperatorRun::scrape() const {
  auto result = run_command("curl -s -k -o /dev/null -w '%{http_code}' --max-time 10 https://127.0.0.1:" +
                            std::to_string(op->metrics_port()) + "/metrics -H " +
                            shell_quote("Authorization: Bearer " + scraper_token_));
  return result.output.substr(0, 3);
}

std::string OperatorRun::evidence() {
  auto found = admin.find(kube::resources::clusterpolicies, {"", kPolicy, ""});
  const std::string status = found ? found->value("status", json::object()).dump(1) : "(no ClusterPolicy)";
  return "requests of " + identity->username() + ":\n" + audit->summary() + "ClusterPolicy status: " + status +
         "\noperator log:\n" + op->log_tail(6000);
}

}  // namespace cpo::testing::rbac
