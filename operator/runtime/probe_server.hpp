// The operator's HTTP endpoints: /healthz and /readyz on the health-probe
// address, /metrics (Prometheus text format) on the metrics address — HTTPS with
// authentication and authorization (metrics_auth.hpp), or plain HTTP for
// development. One Boost.Beast server on one thread serves both; when the two
// addresses are equal (plain metrics only) a single listener serves all three paths.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "runtime/metrics.hpp"
#include "runtime/tls_identity.hpp"

namespace cpo::runtime {

// A named check: std::nullopt when healthy, else the reason it is not.
using Check = std::function<std::optional<std::string>()>;

// "host:port", ":port" (all interfaces), or "0" (disabled). Throws
// std::invalid_argument with a clear message for anything else.
struct BindAddress {
  std::string host;  // "" = all interfaces
  unsigned short port = 0;
  bool disabled = false;
};
BindAddress parse_bind_address(const std::string& text, const std::string& flag_name);

class MetricsAuthorizer;

// /metrics over HTTPS, answered only to a bearer token allowed to read it.
struct SecureMetrics {
  TlsIdentity identity;  // served first; use_tls_identity replaces it
  MetricsAuthorizer* authorizer = nullptr;  // not owned; outlives the server
};

class ProbeServer {
 public:
  explicit ProbeServer(Metrics& metrics);
  ~ProbeServer();
  ProbeServer(const ProbeServer&) = delete;
  ProbeServer& operator=(const ProbeServer&) = delete;

  void add_health_check(const std::string& name, Check check);
  void add_ready_check(const std::string& name, Check check);

  // Binds and starts serving on a thread of its own. Throws std::runtime_error
  // naming the address when it cannot bind. With `secure`, /metrics is served
  // over TLS to authorized requests only (401 without a valid token, 403 without
  // access), on an address of its own.
  void start(const BindAddress& health, const BindAddress& metrics, const SecureMetrics* secure = nullptr);
  void stop();

  // Serves `identity` to the secure listener's new TLS handshakes from now on;
  // connections already open keep theirs. Safe from any thread. Throws
  // std::runtime_error when OpenSSL refuses the pair (the previous one stays).
  void use_tls_identity(const TlsIdentity& identity);

  // The bound ports (useful with port 0); 0 when disabled.
  unsigned short health_port() const;
  unsigned short metrics_port() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// The body and status of a /healthz or /readyz answer for the given checks,
// in the style of the Kubernetes API server ("ok", or "[-]name failed: reason").
struct CheckReport {
  int status = 200;
  std::string body;
};
CheckReport run_checks(const std::vector<std::pair<std::string, Check>>& checks, bool verbose);

}  // namespace cpo::runtime
