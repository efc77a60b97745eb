// The HTTP layer the client speaks through: plain request/response values and a
// streaming body for watches. The Beast/Asio/OpenSSL implementation lives in
// transport.cpp only, so that few translation units pay for those headers.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "kube/config.hpp"

namespace cpo::kube {

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string target;  // path + query, without the server's path prefix
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // besides Host, auth, User-Agent
  std::chrono::milliseconds timeout{std::chrono::seconds(30)};  // whole exchange
};

struct HttpResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;

  std::string header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? std::string{} : it->second;
  }
};

// A response body read incrementally (a watch). Reading and cancel() may be
// called from different threads; everything else from the reading thread.
class BodyStream {
 public:
  virtual ~BodyStream() = default;
  // HTTP status and headers, available as soon as the stream is open.
  virtual const HttpResponse& head() const = 0;
  // The next piece of the body; std::nullopt at its end or after cancel(). Throws
  // TransportError when the connection breaks or `idle_timeout` passes without a byte.
  virtual std::optional<std::string> read_some(std::chrono::milliseconds idle_timeout) = 0;
  // Ends the stream from any thread: a blocked read_some() returns std::nullopt.
  virtual void cancel() = 0;
};

struct TransportStats {
  std::size_t connections_opened = 0;
  std::size_t idle_connections = 0;
};

class Transport {
 public:
  virtual ~Transport() = default;
  // Sends one request and reads the whole answer. Thread-safe; requests from many
  // threads run in parallel on pooled keep-alive connections. Throws TransportError.
  virtual HttpResponse send(const HttpRequest& request) = 0;
  // Opens a streaming request on a connection of its own. Throws TransportError.
  virtual std::unique_ptr<BodyStream> open(const HttpRequest& request) = 0;
  virtual TransportStats stats() const = 0;
};

struct TransportOptions {
  std::chrono::milliseconds connect_timeout{std::chrono::seconds(10)};
  std::size_t max_idle_connections = 16;
  std::string user_agent = "clusterpolicy-operator";
};

// HTTPS (or HTTP) over Boost.Beast + Asio + OpenSSL with TLS verification on
// unless the config says insecure-skip-tls-verify. Throws ConfigError for unusable
// certificates or keys.
std::unique_ptr<Transport> make_beast_transport(const ClusterConfig& config,
                                                TransportOptions options = {});

}  // namespace cpo::kube
