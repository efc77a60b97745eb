#include "kube/resource.hpp"

#include <stdexcept>

namespace cpo::kube {

namespace resources {
const Resource configmaps{"", "v1", "configmaps", "ConfigMap", true};
const Resource tokenreviews{"authentication.k8s.io", "v1", "tokenreviews", "TokenReview", false};
const Resource subjectaccessreviews{"authorization.k8s.io", "v1", "subjectaccessreviews", "SubjectAccessReview", false};
const Resource secrets{"", "v1", "secrets", "Secret", true};
const Resource namespaces{"", "v1", "namespaces", "Namespace", false};
const Resource nodes{"", "v1", "nodes", "Node", false};
const Resource pods{"", "v1", "pods", "Pod", true};
const Resource events{"", "v1", "events", "Event", true};
const Resource serviceaccounts{"", "v1", "serviceaccounts", "ServiceAccount", true};
const Resource daemonsets{"apps", "v1", "daemonsets", "DaemonSet", true};
const Resource leases{"coordination.k8s.io", "v1", "leases", "Lease", true};
const Resource runtimeclasses{"node.k8s.io", "v1", "runtimeclasses", "RuntimeClass", false};
const Resource clusterroles{"rbac.authorization.k8s.io", "v1", "clusterroles", "ClusterRole", false};
const Resource clusterrolebindings{"rbac.authorization.k8s.io", "v1", "clusterrolebindings",
                                   "ClusterRoleBinding", false};
const Resource roles{"rbac.authorization.k8s.io", "v1", "roles", "Role", true};
const Resource rolebindings{"rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding", true};
const Resource customresourcedefinitions{"apiextensions.k8s.io", "v1", "customresourcedefinitions",
                                         "CustomResourceDefinition", false};
const Resource clusterpolicies{"nvidia.com", "v1", "clusterpolicies", "ClusterPolicy", false};
}  // namespace resources

std::string url_escape(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    bool unreserved = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '.' || c == '_' || c == '~';
    if (unreserved) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0x0F]);
    }
  }
  return out;
}

std::string resource_path(const Resource& resource, const ObjectRef& ref) {
  if (!ref.subresource.empty() && ref.name.empty()) {
    throw std::invalid_argument("subresource \"" + ref.subresource + "\" of " + resource.plural +
                                " needs an object name");
  }
  if (resource.namespaced && ref.ns.empty() && !ref.name.empty()) {
    throw std::invalid_argument(resource.plural + " are namespaced: a namespace is needed to address \"" +
                                ref.name + "\"");
  }
  // Appended piece by piece: `"literal" + std::string` trips GCC 12's false
  // -Wrestrict at -O3 (GCC bug 105329).
  std::string path = resource.group.empty() ? "/api/" : "/apis/";
  if (!resource.group.empty()) path.append(resource.group).append("/");
  path.append(resource.version);
  if (resource.namespaced && !ref.ns.empty()) path.append("/namespaces/").append(url_escape(ref.ns));
  path.append("/").append(resource.plural);
  if (!ref.name.empty()) path.append("/").append(url_escape(ref.name));
  if (!ref.subresource.empty()) path.append("/").append(ref.subresource);
  return path;
}

std::string list_query(const ListOptions& options, bool watch) {
  std::string query;
  auto add = [&query](std::string_view key, std::string_view value) {
    query += query.empty() ? '?' : '&';
    query += key;
    query += '=';
    query += url_escape(value);
  };
  if (watch) add("watch", "true");
  if (!options.label_selector.empty()) add("labelSelector", options.label_selector);
  if (!options.field_selector.empty()) add("fieldSelector", options.field_selector);
  if (options.limit) add("limit", std::to_string(*options.limit));
  if (!options.continue_token.empty()) add("continue", options.continue_token);
  if (!options.resource_version.empty()) add("resourceVersion", options.resource_version);
  if (!options.resource_version_match.empty()) add("resourceVersionMatch", options.resource_version_match);
  if (options.timeout_seconds) add("timeoutSeconds", std::to_string(*options.timeout_seconds));
  if (watch && options.allow_watch_bookmarks) add("allowWatchBookmarks", "true");
  return query;
}

}  // namespace cpo::kube
