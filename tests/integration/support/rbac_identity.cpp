#include "support/rbac_identity.hpp"

#include <algorithm>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>

namespace cpo::testing::rbac {

namespace fs = std::filesystem;

namespace {

std::string field(const json& object, const char* name) {
  auto it = object.find(name);
  return it != object.end() && it->is_string() ? it->get<std::string>() : "";
}

// KEY=VALUE lines of DIR/env (the harness writes the API server's URL and CA there).
std::string env_value(const fs::path& file, const std::string& key) {
  std::ifstream in(file);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(key + "=", 0) == 0) return line.substr(key.size() + 1);
  }
  throw std::runtime_error(key + " is missing from " + file.string());
}

json object(const std::string& kind, const std::string& name, const std::string& ns = {}) {
  json meta = {{"name", name}};
  if (!ns.empty()) meta["namespace"] = ns;
  const std::string api = kind == "ServiceAccount" ? "v1" : "rbac.authorization.k8s.io/v1";
  return {{"apiVersion", api}, {"kind", kind}, {"metadata", meta}};
}

json binding(const std::string& kind, const std::string& role_kind, const std::string& name, const std::string& ns,
             const std::string& account_ns) {
  json b = object(kind, name, ns);
  b["roleRef"] = {{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", role_kind}, {"name", name}};
  b["subjects"] = json::array({{{"kind", "ServiceAccount"}, {"name", name}, {"namespace", account_ns}}});
  return b;
}

}  // namespace

std::string AuditRecord::describe() const {
  std::string out = verb + " " + resource + (subresource.empty() ? "" : "/" + subresource);
  if (!ns.empty()) out += " -n " + ns;
  if (!name.empty()) out += " " + name;
  out += " -> " + std::to_string(code);
  if (!message.empty()) out += " (" + message + ")";
  return out;
}

AuditLog::AuditLog(fs::path file, std::string username) : file_(std::move(file)), username_(std::move(username)) {
  std::error_code ec;
  offset_ = fs::file_size(file_, ec);
  if (ec) offset_ = 0;
}

const std::vector<AuditRecord>& AuditLog::records() {
  std::error_code ec;
  const std::uintmax_t size = fs::file_size(file_, ec);
  if (ec) return records_;
  if (size < offset_) {
    // Rotated (the harness keeps one backup, audit-TIMESTAMP.log): finish the old
    // file, the newest backup, then read the new one from its start.
    fs::path newest;
    for (const auto& entry : fs::directory_iterator(file_.parent_path())) {
      const std::string name = entry.path().filename().string();
      if (name.rfind("audit-", 0) != 0 || entry.path().extension() != ".log") continue;
      if (newest.empty() || fs::last_write_time(entry.path()) > fs::last_write_time(newest)) newest = entry.path();
    }
    if (!newest.empty()) read_from(newest, offset_);
    offset_ = 0;
  }
  read_from(file_, offset_);
  return records_;
}

// Reads the whole lines from `offset` on; offset_ ends after the last whole line.
void AuditLog::read_from(const fs::path& file, std::uintmax_t offset) {
  std::ifstream in(file, std::ios::binary);
  in.seekg(static_cast<std::streamoff>(offset));
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::size_t end = text.rfind('\n');
  if (end == std::string::npos) return;
  offset_ = offset + end + 1;
  const std::string needle = "\"username\":\"" + username_ + "\"";
  std::istringstream lines(text.substr(0, end + 1));
  for (std::string line; std::getline(lines, line);) {
    if (line.find(needle) == std::string::npos) continue;
    const json event = json::parse(line, nullptr, false);
    if (event.is_discarded() || field(event.value("user", json::object()), "username") != username_) continue;
    const json ref = event.value("objectRef", json::object());
    const json status = event.value("responseStatus", json::object());
    records_.push_back({field(event, "verb"), field(ref, "resource"), field(ref, "subresource"), field(ref, "namespace"),
                        field(ref, "name"), status.value("code", 0), field(status, "message")});
  }
}

std::string AuditLog::summary() {
  std::string out;
  for (const auto& r : records()) out += r.describe() + "\n";
  return out.empty() ? "(no request of " + username_ + " in the audit log)\n" : out;
}

ServiceAccountIdentity::ServiceAccountIdentity(const TestCluster& cluster, const std::string& ns,
                                               const json& cluster_rules, const json& role_rules)
    : admin_(cluster.admin_config()), ns_(ns) {
  std::random_device rd;
  name_ = "rbac-needed-" + std::to_string(rd() % 1000000);
  username_ = "system:serviceaccount:" + ns_ + ":" + name_;
  admin_.create(kube::resources::serviceaccounts, object("ServiceAccount", name_, ns_));
  json cluster_role = object("ClusterRole", name_);
  cluster_role["rules"] = cluster_rules;
  admin_.create(kube::resources::clusterroles, cluster_role);
  admin_.create(kube::resources::clusterrolebindings, binding("ClusterRoleBinding", "ClusterRole", name_, "", ns_));
  json role = object("Role", name_, ns_);
  role["rules"] = role_rules;
  admin_.create(kube::resources::roles, role);
  admin_.create(kube::resources::rolebindings, binding("RoleBinding", "Role", name_, ns_, ns_));
  write_kubeconfig(cluster, bound_token(cluster, ns_, name_));
  // The API server's authorizer learns of new bindings from its own caches.
  const bool in_force = eventually([&] {
    return std::all_of(cluster_rules.begin(), cluster_rules.end(), [&](const json& r) { return allowed(r, ""); }) &&
           std::all_of(role_rules.begin(), role_rules.end(), [&](const json& r) { return allowed(r, ns_); });
  }, std::chrono::seconds(30));
  if (!in_force) throw std::runtime_error("the rules bound to " + username_ + " did not come into force");
}

ServiceAccountIdentity::~ServiceAccountIdentity() {
  const std::vector<std::pair<const kube::Resource*, kube::ObjectRef>> objects = {
      {&kube::resources::clusterrolebindings, {"", name_, ""}}, {&kube::resources::clusterroles, {"", name_, ""}},
      {&kube::resources::rolebindings, {ns_, name_, ""}},       {&kube::resources::roles, {ns_, name_, ""}},
      {&kube::resources::serviceaccounts, {ns_, name_, ""}}};
  for (const auto& [resource, ref] : objects) {
    try {
      admin_.remove(*resource, ref);
    } catch (const std::exception&) {
      // Already gone; nothing else to undo.
    }
  }
  std::error_code ignored;
  fs::remove(kubeconfig_, ignored);
}

void ServiceAccountIdentity::write_kubeconfig(const TestCluster& cluster, const std::string& token) {
  const fs::path env = cluster.dir() / "env";
  kubeconfig_ = cluster.dir() / ("kubeconfig-" + name_);
  write_token_kubeconfig(kubeconfig_, env_value(env, "APISERVER_URL"), env_value(env, "APISERVER_CA"), username_, token);
}

// Whether the first verb of `rule` on its first resource (and name) is allowed now.
bool ServiceAccountIdentity::allowed(const json& rule, const std::string& ns) {
  const std::string resource = rule["resources"][0];
  const auto slash = resource.find('/');
  json attributes = {{"group", rule["apiGroups"][0]},
                     {"resource", resource.substr(0, slash)},
                     {"verb", rule["verbs"][0]},
                     {"namespace", ns}};
  if (slash != std::string::npos) attributes["subresource"] = resource.substr(slash + 1);
  if (rule.contains("resourceNames")) attributes["name"] = rule["resourceNames"][0];
  const json review = {{"apiVersion", "authorization.k8s.io/v1"},
                       {"metadata", json::object()},
                       {"kind", "SubjectAccessReview"},
                       {"spec",
                        {{"user", username_},
                         {"groups", {"system:serviceaccounts", "system:serviceaccounts:" + ns_, "system:authenticated"}},
                         {"resourceAttributes", attributes}}}};
  return admin_.create(kube::resources::subjectaccessreviews, review)["status"].value("allowed", false);
}

}  // namespace cpo::testing::rbac
