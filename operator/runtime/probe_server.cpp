#include "runtime/probe_server.hpp"

#include "kube/asio.hpp"

#include <boost/asio/ssl.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/ssl.hpp>

#include <charconv>
#include <mutex>
#include <thread>
#include <vector>

#include <spdlog/spdlog.h>

#include "runtime/metrics_auth.hpp"

namespace cpo::runtime {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

BindAddress parse_bind_address(const std::string& text, const std::string& flag_name) {
  BindAddress address;
  if (text == "0") {
    address.disabled = true;
    return address;
  }
  auto colon = text.rfind(':');
  if (colon == std::string::npos) {
    throw std::invalid_argument(flag_name + ": \"" + text + "\" is not an address of the form [host]:port, or 0 to disable");
  }
  address.host = text.substr(0, colon);
  if (address.host.size() >= 2 && address.host.front() == '[' && address.host.back() == ']') {
    address.host = address.host.substr(1, address.host.size() - 2);
  }
  std::string port = text.substr(colon + 1);
  unsigned value = 0;
  auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || ec != std::errc{} || ptr != port.data() + port.size() || value > 65535) {
    throw std::invalid_argument(flag_name + ": \"" + port + "\" is not a port number (0-65535)");
  }
  address.port = static_cast<unsigned short>(value);
  return address;
}

CheckReport run_checks(const std::vector<std::pair<std::string, Check>>& checks, bool verbose) {
  CheckReport report;
  std::string details;
  bool failed = false;
  for (const auto& [name, check] : checks) {
    std::optional<std::string> problem;
    try {
      problem = check();
    } catch (const std::exception& e) {
      problem = e.what();
    }
    if (problem) {
      failed = true;
      details += "[-]" + name + " failed: " + *problem + "\n";
    } else {
      details += "[+]" + name + " ok\n";
    }
  }
  report.status = failed ? 500 : 200;
  if (failed) {
    report.body = details + "check failed\n";
  } else {
    report.body = verbose ? details + "check passed\n" : "ok";
  }
  return report;
}

struct ProbeServer::Impl {
  explicit Impl(Metrics& m) : metrics(m) {}

  Metrics& metrics;
  std::mutex checks_mutex;
  std::vector<std::pair<std::string, Check>> health_checks;
  std::vector<std::pair<std::string, Check>> ready_checks;

  asio::io_context ioc{1};
  std::vector<std::unique_ptr<tcp::acceptor>> acceptors;
  unsigned short health_port = 0;
  unsigned short metrics_port = 0;
  std::thread thread;

  // The secure metrics listener's TLS context (replaced whole when the certificate
  // rotates; each session holds the one it was accepted with) and who checks its requests.
  std::mutex tls_mutex;
  std::shared_ptr<ssl::context> tls;
  MetricsAuthorizer* authorizer = nullptr;

  std::shared_ptr<ssl::context> current_tls() {
    std::lock_guard lock(tls_mutex);
    return tls;
  }

  static std::shared_ptr<ssl::context> make_tls(const TlsIdentity& identity) {
    auto context = std::make_shared<ssl::context>(ssl::context::tls_server);
    context->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                         ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::single_dh_use);
    try {
      context->use_certificate_chain(asio::buffer(identity.certificate_pem));
      context->use_private_key(asio::buffer(identity.private_key_pem), ssl::context::pem);
    } catch (const std::exception& e) {
      throw std::runtime_error(std::string("the metrics certificate or key cannot be used: ") + e.what());
    }
    return context;
  }

  // Token and access reviews block on the API server: never on the serving thread.
  asio::thread_pool auth_pool{1};

  // Which paths a listener answers.
  struct Routes {
    bool probes = false;
    bool metrics = false;
    bool secure = false;  // TLS, and /metrics only to who may read it
  };

  static http::response<http::string_body> plain(const http::request<http::string_body>& request, unsigned status,
                                                 std::string body) {
    http::response<http::string_body> response;
    response.version(request.version());
    response.keep_alive(request.keep_alive());
    response.set(http::field::content_type, "text/plain; charset=utf-8");
    response.result(status);
    response.body() = std::move(body);
    response.prepare_payload();
    return response;
  }

  // /metrics after its request was checked.
  http::response<http::string_body> answer_checked(const http::request<http::string_body>& request,
                                                   const AuthVerdict& verdict) {
    if (verdict.status != 200) {
      spdlog::debug("/metrics refused ({}): {}", verdict.status, verdict.message);
      auto response = plain(request, static_cast<unsigned>(verdict.status), verdict.message + "\n");
      if (verdict.status == 401) response.set(http::field::www_authenticate, "Bearer");
      return response;
    }
    return answer(request, {false, true, false});
  }

  http::response<http::string_body> answer(const http::request<http::string_body>& request, Routes routes) {
    std::string target(request.target());
    std::string path = target.substr(0, target.find('?'));
    bool verbose = target.find("verbose") != std::string::npos;
    http::response<http::string_body> response;
    response.version(request.version());
    response.keep_alive(request.keep_alive());
    response.set(http::field::content_type, "text/plain; charset=utf-8");
    if (request.method() != http::verb::get && request.method() != http::verb::head) {
      response.result(http::status::method_not_allowed);
      response.body() = "only GET\n";
    } else if (routes.probes && (path == "/healthz" || path == "/livez" || path == "/readyz")) {
      std::vector<std::pair<std::string, Check>> checks;
      {
        std::lock_guard lock(checks_mutex);
        checks = path == "/readyz" ? ready_checks : health_checks;
        if (path == "/readyz") checks.insert(checks.begin(), health_checks.begin(), health_checks.end());
      }
      CheckReport report = run_checks(checks, verbose);
      response.result(report.status);
      response.body() = report.body;
    } else if (routes.metrics && path == "/metrics") {
      response.result(http::status::ok);
      response.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
      response.body() = metrics.serialize();
    } else {
      response.result(http::status::not_found);
      response.body() = "404 page not found\n";
    }
    response.prepare_payload();
    return response;
  }

  template <typename Stream>
  struct Session : std::enable_shared_from_this<Session<Stream>> {
    static constexpr bool kTls = !std::is_same_v<Stream, beast::tcp_stream>;
    Session(Impl& impl, Routes routes, tcp::socket socket, std::shared_ptr<ssl::context> context = nullptr)
        : impl(impl), tls_context(std::move(context)), stream(open(std::move(socket), tls_context.get())), routes(routes) {}
    static Stream open(tcp::socket socket, ssl::context* context) {
      if constexpr (kTls) {
        return Stream(std::move(socket), *context);
      } else {
        return Stream(std::move(socket));
      }
    }
    Impl& impl;
    std::shared_ptr<ssl::context> tls_context;  // outlives the stream that uses it
    Stream stream;
    Routes routes;
    beast::flat_buffer buffer;
    http::request<http::string_body> request;
    std::shared_ptr<http::response<http::string_body>> response;

    void start() {
      if constexpr (kTls) {
        beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(30));
        stream.async_handshake(ssl::stream_base::server, [self = this->shared_from_this()](beast::error_code ec) {
          if (ec) return self->close();
          self->read();
        });
      } else {
        read();
      }
    }
    void read() {
      request = {};
      beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(30));
      http::async_read(stream, buffer, request,
                       [self = this->shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
    }
    void on_read(beast::error_code ec) {
      if (ec) return close();
      const std::string target(request.target());
      const std::string path = target.substr(0, target.find('?'));
      if (routes.secure && path == "/metrics" &&
          (request.method() == http::verb::get || request.method() == http::verb::head)) {
        const std::string authorization(request[http::field::authorization]);
        asio::post(impl.auth_pool, [self = this->shared_from_this(), authorization, path] {
          AuthVerdict verdict = self->impl.authorizer->check(authorization, path);
          asio::post(self->stream.get_executor(), [self, verdict] { self->respond(self->impl.answer_checked(self->request, verdict)); });
        });
        return;
      }
      respond(impl.answer(request, routes));
    }
    void respond(http::response<http::string_body> answer) {
      response = std::make_shared<http::response<http::string_body>>(std::move(answer));
      http::async_write(stream, *response, [self = this->shared_from_this()](beast::error_code e, std::size_t) {
        if (!e && self->response->keep_alive()) {
          self->read();
        } else {
          self->close();
        }
      });
    }
    void close() {
      beast::error_code ignored;
      beast::get_lowest_layer(stream).socket().shutdown(tcp::socket::shutdown_both, ignored);
    }
  };

  void accept(tcp::acceptor& acceptor, Routes routes) {
    acceptor.async_accept([this, &acceptor, routes](beast::error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted) return;
      if (!ec && routes.secure) {
        std::make_shared<Session<beast::ssl_stream<beast::tcp_stream>>>(*this, routes, std::move(socket), current_tls())
            ->start();
      } else if (!ec) {
        std::make_shared<Session<beast::tcp_stream>>(*this, routes, std::move(socket))->start();
      }
      accept(acceptor, routes);
    });
  }

  unsigned short listen(const BindAddress& address, Routes routes, const std::string& what) {
    try {
      auto ip = address.host.empty() ? asio::ip::address(asio::ip::address_v4::any())
                                     : asio::ip::make_address(address.host);
      tcp::endpoint endpoint(ip, address.port);
      auto acceptor = std::make_unique<tcp::acceptor>(ioc);
      acceptor->open(endpoint.protocol());
      acceptor->set_option(asio::socket_base::reuse_address(true));
      acceptor->bind(endpoint);
      acceptor->listen();
      unsigned short port = acceptor->local_endpoint().port();
      accept(*acceptor, routes);
      acceptors.push_back(std::move(acceptor));
      return port;
    } catch (const std::exception& e) {
      throw std::runtime_error("cannot serve " + what + " on " + (address.host.empty() ? "*" : address.host) + ":" +
                               std::to_string(address.port) + ": " + e.what());
    }
  }
};

ProbeServer::ProbeServer(Metrics& metrics) : impl_(std::make_unique<Impl>(metrics)) {}

ProbeServer::~ProbeServer() { stop(); }

void ProbeServer::add_health_check(const std::string& name, Check check) {
  std::lock_guard lock(impl_->checks_mutex);
  impl_->health_checks.emplace_back(name, std::move(check));
}

void ProbeServer::add_ready_check(const std::string& name, Check check) {
  std::lock_guard lock(impl_->checks_mutex);
  impl_->ready_checks.emplace_back(name, std::move(check));
}

void ProbeServer::start(const BindAddress& health, const BindAddress& metrics, const SecureMetrics* secure) {
  bool same = !health.disabled && !metrics.disabled && health.host == metrics.host && health.port == metrics.port &&
              health.port != 0;
  if (same && secure) {
    throw std::runtime_error("the health probes (plain HTTP) and the secure metrics (HTTPS) need two addresses");
  }
  if (secure) {
    if (!secure->authorizer) throw std::invalid_argument("secure metrics need an authorizer");
    impl_->authorizer = secure->authorizer;
    use_tls_identity(secure->identity);
  }
  if (same) {
    impl_->health_port = impl_->metrics_port = impl_->listen(health, {true, true, false}, "health probes and metrics");
  } else {
    if (!health.disabled) impl_->health_port = impl_->listen(health, {true, false, false}, "health probes");
    if (!metrics.disabled) {
      impl_->metrics_port = impl_->listen(metrics, {false, true, secure != nullptr}, secure ? "metrics (HTTPS)" : "metrics");
    }
  }
  impl_->thread = std::thread([impl = impl_.get()] {
    try {
      impl->ioc.run();
    } catch (const std::exception& e) {
      spdlog::error("probe server stopped: {}", e.what());
    }
  });
}

void ProbeServer::stop() {
  if (!impl_ || !impl_->thread.joinable()) return;
  impl_->ioc.stop();
  impl_->thread.join();
  impl_->auth_pool.join();
  impl_->acceptors.clear();
}

void ProbeServer::use_tls_identity(const TlsIdentity& identity) {
  std::shared_ptr<ssl::context> context = Impl::make_tls(identity);
  std::lock_guard lock(impl_->tls_mutex);
  impl_->tls.swap(context);
}  // the previous context goes with its last session

unsigned short ProbeServer::health_port() const { return impl_->health_port; }
unsigned short ProbeServer::metrics_port() const { return impl_->metrics_port; }

}  // namespace cpo::runtime
