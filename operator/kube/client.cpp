#include "kube/client.hpp"

#include <algorithm>
#include <thread>

#include <spdlog/spdlog.h>

namespace cpo::kube {

namespace {

// One line per request at trace level: verb, path and query, outcome, time. Never a
// header: the Authorization header holds the token.
void trace_request(const std::string& method, const std::string& target, const std::string& outcome,
                   std::chrono::steady_clock::time_point started) {
  if (!spdlog::should_log(spdlog::level::trace)) return;
  const std::chrono::duration<double, std::milli> took = std::chrono::steady_clock::now() - started;
  spdlog::trace("{} {}: {} in {:.1f} ms", method, target, outcome, took.count());
}

constexpr std::string_view kJson = "application/json";
constexpr std::string_view kMetadataAccept =
    "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json";
constexpr std::string_view kMetadataListAccept =
    "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json";

// A 429 or 5xx with Retry-After means the server did not act on the request: wait as
// told and send it again, up to kRetryAfterAttempts times (client-go's default), when
// the wait is at most kLongestRetryAfter. Otherwise the error goes to the caller, with
// retry_after() set for it to requeue later. Returns whether to send again.
constexpr int kRetryAfterAttempts = 10;
constexpr std::chrono::seconds kLongestRetryAfter{60};

bool wait_as_asked(const std::string& method, const std::string& target, int status, std::string_view header,
                   int retries_done) {
  const auto wait = server_asked_wait(status, header);
  if (!wait || retries_done >= kRetryAfterAttempts || *wait > kLongestRetryAfter) return false;
  spdlog::debug("{} {}: HTTP {}, the server asks to retry after {}s (retry {} of {})", method, target, status,
                wait->count(), retries_done + 1, kRetryAfterAttempts);
  std::this_thread::sleep_for(*wait);
  return true;
}

ObjectRef ref_of(const Resource& resource, const nlohmann::json& object) {
  const auto& meta = object.at("metadata");
  ObjectRef ref;
  ref.name = meta.value("name", "");
  if (resource.namespaced) ref.ns = meta.value("namespace", "");
  return ref;
}

void append_param(std::string& target, std::string_view key, std::string_view value) {
  target += target.find('?') == std::string::npos ? '?' : '&';
  target += key;
  target += '=';
  target += url_escape(value);
}

}  // namespace

std::string_view content_type(PatchType type) {
  switch (type) {
    case PatchType::Merge: return "application/merge-patch+json";
    case PatchType::Json: return "application/json-patch+json";
    case PatchType::StrategicMerge: return "application/strategic-merge-patch+json";
    case PatchType::Apply: return "application/apply-patch+yaml";
  }
  return "application/merge-patch+json";
}

WatchStream::WatchStream(std::unique_ptr<BodyStream> body, std::chrono::milliseconds idle_timeout,
                         FieldMask object_fields)
    : body_(std::move(body)),
      idle_timeout_(idle_timeout),
      framer_(WatchFramer::kDefaultMaxEventBytes, std::move(object_fields)) {}

std::optional<WatchEvent> WatchStream::next() {
  while (ready_pos_ >= ready_.size()) {
    ready_.clear();
    ready_pos_ = 0;
    auto piece = body_->read_some(idle_timeout_);
    if (!piece) return std::nullopt;
    ready_ = framer_.feed(*piece);
  }
  return std::move(ready_[ready_pos_++]);
}

void WatchStream::cancel() { body_->cancel(); }

Client::Client(ClusterConfig config, ClientOptions options)
    : config_(std::move(config)),
      options_(std::move(options)),
      transport_(make_beast_transport(config_, TransportOptions{std::chrono::seconds(10), 16, options_.user_agent})),
      token_(config_) {}

Client::Client(ClusterConfig config, std::unique_ptr<Transport> transport, ClientOptions options)
    : config_(std::move(config)), options_(std::move(options)), transport_(std::move(transport)), token_(config_) {}

void Client::add_auth(HttpRequest& request) {
  std::string token = token_.get();
  if (!token.empty()) request.headers.emplace_back("Authorization", "Bearer " + token);
}

HttpResponse Client::send(const std::string& method, const std::string& target, const std::string& body,
                          std::string_view content_type, std::string_view accept,
                          std::optional<std::chrono::milliseconds> timeout) {
  HttpRequest request;
  request.method = method;
  request.target = target;
  request.body = body;
  request.timeout = timeout ? std::min(*timeout, options_.request_timeout) : options_.request_timeout;
  request.headers.emplace_back("Accept", accept.empty() ? std::string(kJson) : std::string(accept));
  if (!content_type.empty()) request.headers.emplace_back("Content-Type", std::string(content_type));
  add_auth(request);

  for (int retries = 0;; ++retries) {
    const auto started = std::chrono::steady_clock::now();
    HttpResponse response;
    try {
      response = transport_->send(request);
    } catch (const TransportError& e) {
      if (options_.observer) options_.observer(method, "<error>", std::chrono::steady_clock::now() - started);
      trace_request(method, target, e.what(), started);
      throw;
    }
    if (options_.observer) {
      options_.observer(method, std::to_string(response.status), std::chrono::steady_clock::now() - started);
    }
    trace_request(method, target, "HTTP " + std::to_string(response.status), started);
    if (response.status >= 200 && response.status <= 299) return response;
    if (!wait_as_asked(method, target, response.status, response.header("retry-after"), retries)) {
      throw error_from_response(response.status, response.body, response.header("retry-after"));
    }
  }
}

nlohmann::json Client::call(const std::string& method, const std::string& target, const std::string& body,
                            std::string_view content_type, std::string_view accept,
                            std::optional<std::chrono::milliseconds> timeout) {
  const HttpResponse response = send(method, target, body, content_type, accept, timeout);
  if (response.body.empty()) return nlohmann::json::object();
  auto parsed = nlohmann::json::parse(response.body, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) {
    throw TransportError(method + " " + target + ": the server answered HTTP " +
                         std::to_string(response.status) + " with a body that is not JSON");
  }
  return parsed;
}

nlohmann::json Client::get(const Resource& resource, const ObjectRef& ref, const ReadOptions& options) {
  std::string target = resource_path(resource, ref);
  if (!options.resource_version.empty()) append_param(target, "resourceVersion", options.resource_version);
  return call("GET", target, {}, {}, options.metadata_only ? kMetadataAccept : kJson, options.timeout);
}

std::optional<nlohmann::json> Client::find(const Resource& resource, const ObjectRef& ref,
                                           const ReadOptions& options) {
  try {
    return get(resource, ref, options);
  } catch (const ApiError& e) {
    if (e.is_not_found()) return std::nullopt;
    throw;
  }
}

nlohmann::json Client::list(const Resource& resource, const std::string& ns, const ListOptions& options,
                            bool metadata_only) {
  std::string target = resource_path(resource, ObjectRef{ns, {}, {}}) + list_query(options, false);
  return call("GET", target, {}, {}, metadata_only ? kMetadataListAccept : kJson);
}

ListPage Client::list_page(const Resource& resource, const std::string& ns, const ListOptions& options,
                           const FieldMask& item_fields, bool metadata_only) {
  std::string target = resource_path(resource, ObjectRef{ns, {}, {}}) + list_query(options, false);
  const HttpResponse response = send("GET", target, {}, {}, metadata_only ? kMetadataListAccept : kJson);
  try {
    return decode_list_page(response.body, item_fields);
  } catch (const std::invalid_argument& e) {
    throw TransportError("GET " + target + ": the server answered HTTP " + std::to_string(response.status) +
                         " with a body that is not a list: " + e.what());
  }
}

nlohmann::json Client::list_all(const Resource& resource, const std::string& ns, ListOptions options,
                                bool metadata_only) {
  nlohmann::json result = list(resource, ns, options, metadata_only);
  if (!result.contains("items") || result["items"].is_null()) result["items"] = nlohmann::json::array();
  while (true) {
    std::string next = result["metadata"].value("continue", "");
    if (next.empty()) break;
    options.continue_token = next;
    options.resource_version.clear();  // not allowed together with continue
    nlohmann::json page = list(resource, ns, options, metadata_only);
    if (page.contains("items") && page["items"].is_array()) {
      for (auto& item : page["items"]) result["items"].push_back(std::move(item));
    }
    result["metadata"] = page["metadata"];
  }
  result["metadata"].erase("continue");
  return result;
}

nlohmann::json Client::create(const Resource& resource, const nlohmann::json& object, const WriteOptions& options) {
  ObjectRef ref = ref_of(resource, object);
  ref.name.clear();
  std::string target = resource_path(resource, ref);
  if (!options.field_manager.empty()) append_param(target, "fieldManager", options.field_manager);
  if (options.dry_run) append_param(target, "dryRun", "All");
  return call("POST", target, object.dump(), kJson, {}, options.timeout);
}

nlohmann::json Client::update(const Resource& resource, const nlohmann::json& object, const WriteOptions& options) {
  std::string target = resource_path(resource, ref_of(resource, object));
  if (!options.field_manager.empty()) append_param(target, "fieldManager", options.field_manager);
  if (options.dry_run) append_param(target, "dryRun", "All");
  return call("PUT", target, object.dump(), kJson, {}, options.timeout);
}

nlohmann::json Client::update_status(const Resource& resource, const nlohmann::json& object,
                                     const WriteOptions& options) {
  ObjectRef ref = ref_of(resource, object);
  ref.subresource = "status";
  std::string target = resource_path(resource, ref);
  if (!options.field_manager.empty()) append_param(target, "fieldManager", options.field_manager);
  return call("PUT", target, object.dump(), kJson, {}, options.timeout);
}

nlohmann::json Client::patch(const Resource& resource, const ObjectRef& ref, PatchType type,
                             const nlohmann::json& body, const PatchOptions& options) {
  if (type == PatchType::Apply && options.field_manager.empty()) {
    throw std::invalid_argument("server-side apply needs a field manager");
  }
  std::string target = resource_path(resource, ref);
  if (!options.field_manager.empty()) append_param(target, "fieldManager", options.field_manager);
  if (type == PatchType::Apply && options.force) append_param(target, "force", "true");
  if (options.dry_run) append_param(target, "dryRun", "All");
  return call("PATCH", target, body.dump(), content_type(type));
}

nlohmann::json Client::apply(const Resource& resource, const nlohmann::json& object,
                             const std::string& field_manager, bool force, const std::string& subresource) {
  ObjectRef ref = ref_of(resource, object);
  ref.subresource = subresource;
  nlohmann::json body = object;
  body["apiVersion"] = resource.api_version();
  body["kind"] = resource.kind;
  PatchOptions options;
  options.field_manager = field_manager;
  options.force = force;
  return patch(resource, ref, PatchType::Apply, body, options);
}

nlohmann::json Client::remove(const Resource& resource, const ObjectRef& ref, const DeleteOptions& options) {
  nlohmann::json body = {{"apiVersion", "v1"}, {"kind", "DeleteOptions"}};
  if (!options.propagation_policy.empty()) body["propagationPolicy"] = options.propagation_policy;
  if (options.grace_period_seconds) body["gracePeriodSeconds"] = *options.grace_period_seconds;
  if (!options.precondition_uid.empty()) body["preconditions"]["uid"] = options.precondition_uid;
  if (!options.precondition_resource_version.empty()) {
    body["preconditions"]["resourceVersion"] = options.precondition_resource_version;
  }
  return call("DELETE", resource_path(resource, ref), body.dump(), kJson);
}

nlohmann::json Client::create_subresource(const Resource& resource, const ObjectRef& ref,
                                          const nlohmann::json& body) {
  return call("POST", resource_path(resource, ref), body.dump(), kJson);
}

std::unique_ptr<WatchStream> Client::watch(const Resource& resource, const std::string& ns,
                                           const ListOptions& options, bool metadata_only,
                                           const FieldMask& object_fields) {
  HttpRequest request;
  request.method = "GET";
  request.target = resource_path(resource, ObjectRef{ns, {}, {}}) + list_query(options, true);
  request.timeout = options_.request_timeout;
  request.headers.emplace_back("Accept", std::string(metadata_only ? kMetadataAccept : kJson));
  add_auth(request);
  std::unique_ptr<BodyStream> body;
  for (int retries = 0;; ++retries) {
    const auto started = std::chrono::steady_clock::now();
    try {
      body = transport_->open(request);
    } catch (const TransportError& e) {
      // A watch is a GET, and client-go counts it as one.
      if (options_.observer) options_.observer("GET", "<error>", std::chrono::steady_clock::now() - started);
      trace_request("GET", request.target, e.what(), started);
      throw;
    }
    const auto& head = body->head();
    if (options_.observer) {
      options_.observer("GET", std::to_string(head.status), std::chrono::steady_clock::now() - started);
    }
    trace_request("GET", request.target, "HTTP " + std::to_string(head.status) + " (watch opened)", started);
    if (head.status >= 200 && head.status <= 299) break;
    if (!wait_as_asked("GET", request.target, head.status, head.header("retry-after"), retries)) {
      throw error_from_response(head.status, head.body, head.header("retry-after"));
    }
  }
  // The server ends a watch after timeoutSeconds; silence well past that, or past
  // the bookmark interval, means a dead connection (a watch resumed from its last
  // resourceVersion loses nothing).
  auto idle = std::min<std::chrono::seconds>(std::chrono::seconds(options.timeout_seconds.value_or(300) + 60),
                                             WatchStream::kMaxWatchIdle);
  return std::make_unique<WatchStream>(std::move(body), idle, object_fields);
}

}  // namespace cpo::kube
