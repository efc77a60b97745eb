// An in-memory stand-in for the Lease endpoints of an API server: get, create and
// update with resourceVersion checks, plus switches to fail, lose races or be slow.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "kube/client.hpp"

namespace cpo::testing {

class FakeLeaseApi {
 public:
  kube::HttpResponse handle(const kube::HttpRequest& request) {
    {
      std::lock_guard lock(mutex_);
      requests_.push_back({request.method, request.timeout});
    }
    if (before_request) before_request(request);  // may sleep, advance a fake clock or throw
    std::lock_guard lock(mutex_);
    if (down) throw kube::TransportError("connection refused");
    std::string path = request.target.substr(0, request.target.find('?'));
    if (request.method == "GET") {
      auto it = objects_.find(path);
      return it == objects_.end() ? status(404, "NotFound") : answer(200, it->second);
    }
    if (!next_write_error.empty()) {
      std::string reason = std::exchange(next_write_error, "");
      return status(409, reason);
    }
    auto object = nlohmann::json::parse(request.body);
    if (request.method == "POST") {
      path += "/" + object["metadata"]["name"].get<std::string>();
      if (objects_.count(path)) return status(409, "AlreadyExists");
    } else if (request.method == "PUT") {
      auto it = objects_.find(path);
      if (it == objects_.end()) return status(404, "NotFound");
      if (object["metadata"].value("resourceVersion", "") != it->second["metadata"]["resourceVersion"]) {
        return status(409, "Conflict");
      }
    } else {
      return status(405, "MethodNotAllowed");
    }
    object["metadata"]["resourceVersion"] = std::to_string(++version_);
    objects_[path] = object;
    ++writes;
    return answer(request.method == "POST" ? 201 : 200, object);
  }

  nlohmann::json lease(const std::string& ns, const std::string& name) {
    std::lock_guard lock(mutex_);
    return objects_.at("/apis/coordination.k8s.io/v1/namespaces/" + ns + "/leases/" + name);
  }

  std::unique_ptr<kube::Client> client(const std::shared_ptr<FakeLeaseApi>& self);

  struct Request {
    std::string method;
    std::chrono::milliseconds timeout;  // as the transport was asked to bound it
  };
  std::vector<Request> requests() {
    std::lock_guard lock(mutex_);
    return requests_;
  }

  // Runs before each request is answered (set it before the first request).
  std::function<void(const kube::HttpRequest&)> before_request;

  std::atomic<bool> down = false;  // every request fails as if the server were unreachable
  std::string next_write_error;    // "Conflict" or "AlreadyExists": the next write loses a race
  std::atomic<int> writes = 0;

 private:
  static kube::HttpResponse answer(int code, const nlohmann::json& body) {
    kube::HttpResponse response;
    response.status = code;
    response.body = body.dump();
    return response;
  }
  static kube::HttpResponse status(int code, const std::string& reason) {
    return answer(code, {{"kind", "Status"},
                         {"apiVersion", "v1"},
                         {"status", "Failure"},
                         {"code", code},
                         {"reason", reason},
                         {"message", reason}});
  }

  std::mutex mutex_;
  std::map<std::string, nlohmann::json> objects_;
  std::vector<Request> requests_;
  long version_ = 100;
};

class FakeLeaseTransport : public kube::Transport {
 public:
  explicit FakeLeaseTransport(std::shared_ptr<FakeLeaseApi> api) : api_(std::move(api)) {}
  kube::HttpResponse send(const kube::HttpRequest& request) override { return api_->handle(request); }
  std::unique_ptr<kube::BodyStream> open(const kube::HttpRequest&) override {
    throw kube::TransportError("watch is not supported here");
  }
  kube::TransportStats stats() const override { return {}; }

 private:
  std::shared_ptr<FakeLeaseApi> api_;
};

inline std::unique_ptr<kube::Client> FakeLeaseApi::client(const std::shared_ptr<FakeLeaseApi>& self) {
  kube::ClusterConfig config;
  config.server = "http://fake";
  return std::make_unique<kube::Client>(config, std::make_unique<FakeLeaseTransport>(self));
}

}  // namespace cpo::testing
