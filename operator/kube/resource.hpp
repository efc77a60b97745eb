// Resource kinds and the URL paths and query strings of the Kubernetes REST API.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace cpo::kube {

// One kind of resource, as the REST API addresses it.
struct Resource {
  std::string group;    // "" for the core API
  std::string version;  // "v1"
  std::string plural;   // "configmaps"
  std::string kind;     // "ConfigMap"
  bool namespaced = true;

  std::string api_version() const { return group.empty() ? version : group + "/" + version; }
};

// Well-known kinds used by the operator and its tests.
namespace resources {
extern const Resource configmaps;
extern const Resource tokenreviews;           // authentication.k8s.io/v1, create only
extern const Resource subjectaccessreviews;   // authorization.k8s.io/v1, create only
extern const Resource secrets;
extern const Resource namespaces;
extern const Resource nodes;
extern const Resource pods;
extern const Resource events;
extern const Resource serviceaccounts;
extern const Resource daemonsets;
extern const Resource leases;
extern const Resource runtimeclasses;
extern const Resource clusterroles;
extern const Resource clusterrolebindings;
extern const Resource roles;
extern const Resource rolebindings;
extern const Resource customresourcedefinitions;
extern const Resource clusterpolicies;
}  // namespace resources

// Which object (or collection) a request addresses.
struct ObjectRef {
  std::string ns;           // ignored for cluster-scoped kinds
  std::string name;         // empty = the collection
  std::string subresource;  // "status", "binding", ... (needs a name)
};

// Query parameters of list and watch requests.
struct ListOptions {
  std::string label_selector;
  std::string field_selector;
  std::optional<long> limit;
  std::string continue_token;
  std::string resource_version;
  std::string resource_version_match;  // "NotOlderThan" | "Exact" (server >= 1.19)
  std::optional<long> timeout_seconds;
  bool allow_watch_bookmarks = false;
};

// Percent-encodes one path segment or query value (RFC 3986 unreserved kept).
std::string url_escape(std::string_view text);

// "/api/v1/namespaces/ns/configmaps/name/status" and the like. Throws
// std::invalid_argument for a namespaced kind without a namespace when a name is
// given, or a subresource without a name.
std::string resource_path(const Resource& resource, const ObjectRef& ref);

// "?labelSelector=...&limit=..." (empty when no option is set). `watch` adds watch=true.
std::string list_query(const ListOptions& options, bool watch);

}  // namespace cpo::kube
