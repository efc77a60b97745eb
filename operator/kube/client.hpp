// A Kubernetes REST client: typed verbs over any resource path.
//
// Objects travel as nlohmann::json. Every failure answered by the server throws
// ApiError (with the server's Status), a broken connection throws TransportError.
// The client is thread-safe; requests from many threads run in parallel.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "kube/config.hpp"
#include "kube/errors.hpp"
#include "kube/http.hpp"
#include "kube/list_page.hpp"
#include "kube/resource.hpp"
#include "kube/watch_event.hpp"

namespace cpo::kube {

enum class PatchType {
  Merge,           // application/merge-patch+json (RFC 7386)
  Json,            // application/json-patch+json (RFC 6902)
  StrategicMerge,  // application/strategic-merge-patch+json (built-in kinds only)
  Apply,           // application/apply-patch+yaml (server-side apply; JSON is valid YAML)
};

std::string_view content_type(PatchType type);

struct WriteOptions {
  std::string field_manager;
  bool dry_run = false;
  // A shorter limit for this request than the client's request_timeout (a caller
  // with a deadline of its own); unset = the client's.
  std::optional<std::chrono::milliseconds> timeout;
};

struct PatchOptions {
  std::string field_manager;  // required for Apply
  bool force = false;         // Apply: take over fields other managers own
  bool dry_run = false;
};

struct DeleteOptions {
  std::string propagation_policy;  // "Foreground" | "Background" | "Orphan" | "" (server default)
  std::optional<long> grace_period_seconds;
  std::string precondition_uid;
  std::string precondition_resource_version;
};

struct ReadOptions {
  std::string resource_version;
  // Ask for PartialObjectMetadata(List) instead of whole objects: labels,
  // annotations, owners — none of a Node's potentially large status.
  bool metadata_only = false;
  // A shorter limit for this request than the client's request_timeout; unset = the client's.
  std::optional<std::chrono::milliseconds> timeout;
};

// A watch in progress. next() blocks until an event arrives; it returns
// std::nullopt when the server ends the watch (timeoutSeconds) or after cancel().
// ERROR events are returned as events; error_from_status(event.object) types them.
// A watch silent for longer than its idle timeout (at most kMaxWatchIdle) throws
// TransportError: the connection is presumed dead.
class WatchStream {
 public:
  // The apiserver sends a bookmark about every minute to a watch that allows
  // them, so a watch silent this long is dead even before its timeoutSeconds.
  static constexpr std::chrono::seconds kMaxWatchIdle{90};

  // `object_fields`: what to keep of each event's object (field_mask.hpp).
  WatchStream(std::unique_ptr<BodyStream> body, std::chrono::milliseconds idle_timeout,
              FieldMask object_fields = {});
  std::optional<WatchEvent> next();
  // Thread-safe: makes a blocked next() return std::nullopt.
  void cancel();

 private:
  std::unique_ptr<BodyStream> body_;
  std::chrono::milliseconds idle_timeout_;
  WatchFramer framer_;
  std::vector<WatchEvent> ready_;
  std::size_t ready_pos_ = 0;
};

// Called after every request with its HTTP method and status code as text
// ("200", "404"; "<error>" when no answer arrived), for rest_client metrics.
using RequestObserver = std::function<void(std::string_view method, std::string_view code,
                                           std::chrono::duration<double> latency)>;

struct ClientOptions {
  std::chrono::milliseconds request_timeout{std::chrono::seconds(30)};
  std::string user_agent = "clusterpolicy-operator";
  RequestObserver observer;
};

class Client {
 public:
  explicit Client(ClusterConfig config, ClientOptions options = {});
  // For tests: any transport (the config still supplies credentials).
  Client(ClusterConfig config, std::unique_ptr<Transport> transport, ClientOptions options = {});

  const ClusterConfig& config() const { return config_; }

  nlohmann::json get(const Resource& resource, const ObjectRef& ref, const ReadOptions& options = {});
  // std::nullopt instead of NotFound.
  std::optional<nlohmann::json> find(const Resource& resource, const ObjectRef& ref,
                                     const ReadOptions& options = {});

  // One page (honours limit/continue). `ns` empty = all namespaces.
  nlohmann::json list(const Resource& resource, const std::string& ns, const ListOptions& options = {},
                      bool metadata_only = false);
  // One page with only `item_fields` of each item: for large lists of which a few
  // fields are read (list_page.hpp).
  ListPage list_page(const Resource& resource, const std::string& ns, const ListOptions& options,
                     const FieldMask& item_fields, bool metadata_only = false);
  // Every page, items concatenated; metadata.resourceVersion is that of the last page.
  nlohmann::json list_all(const Resource& resource, const std::string& ns, ListOptions options = {},
                          bool metadata_only = false);

  // The object's namespace/name come from its metadata.
  nlohmann::json create(const Resource& resource, const nlohmann::json& object,
                        const WriteOptions& options = {});
  // PUT with the object's metadata.resourceVersion (409 Conflict when stale).
  nlohmann::json update(const Resource& resource, const nlohmann::json& object,
                        const WriteOptions& options = {});
  nlohmann::json update_status(const Resource& resource, const nlohmann::json& object,
                               const WriteOptions& options = {});
  nlohmann::json patch(const Resource& resource, const ObjectRef& ref, PatchType type,
                       const nlohmann::json& patch, const PatchOptions& options = {});
  // Server-side apply of a whole intent (namespace/name from its metadata).
  nlohmann::json apply(const Resource& resource, const nlohmann::json& object,
                       const std::string& field_manager, bool force = true,
                       const std::string& subresource = {});
  // Returns the server's answer (the object, or a Status when already gone).
  nlohmann::json remove(const Resource& resource, const ObjectRef& ref, const DeleteOptions& options = {});
  // POST to a subresource (pods/binding, ...).
  nlohmann::json create_subresource(const Resource& resource, const ObjectRef& ref,
                                    const nlohmann::json& body);

  // Starts a watch. Errors the server answers before streaming (403, 404, ...)
  // throw ApiError here; a too-old resourceVersion arrives as an ERROR event (410).
  // `object_fields`: what to keep of each event's object (field_mask.hpp).
  std::unique_ptr<WatchStream> watch(const Resource& resource, const std::string& ns,
                                     const ListOptions& options, bool metadata_only = false,
                                     const FieldMask& object_fields = {});

  TransportStats transport_stats() const { return transport_->stats(); }

 private:
  // A request retried as the server asks (429, Retry-After); returns a 2xx answer, throws otherwise.
  HttpResponse send(const std::string& method, const std::string& target, const std::string& body,
                    std::string_view content_type, std::string_view accept = {},
                    std::optional<std::chrono::milliseconds> timeout = std::nullopt);
  nlohmann::json call(const std::string& method, const std::string& target, const std::string& body,
                      std::string_view content_type, std::string_view accept = {},
                      std::optional<std::chrono::milliseconds> timeout = std::nullopt);
  void add_auth(HttpRequest& request);

  ClusterConfig config_;
  ClientOptions options_;
  std::unique_ptr<Transport> transport_;
  BearerToken token_;
};

}  // namespace cpo::kube
