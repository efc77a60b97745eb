// HTTP(S) transport over Boost.Beast.
//
// Each connection owns a private io_context and is used by one thread at a time.
// Operations are started asynchronously and the io_context is run to completion
// on the calling thread, which gives a blocking API with real timeouts (the
// tcp_stream's expiry closes the socket). A pool keeps idle keep-alive
// connections; a watch takes a connection of its own. Every socket has TCP
// keepalive on, so a peer that vanished (a node or NAT gone silent) is noticed
// within about a minute even on a connection that carries nothing.
#include "kube/asio.hpp"
#include "kube/errors.hpp"
#include "kube/http.hpp"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <charconv>
#include <deque>
#include <limits>
#include <mutex>
#include <vector>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>

#include <openssl/ssl.h>
#include <spdlog/spdlog.h>

namespace cpo::kube {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

constexpr std::size_t kReadChunk = 64 * 1024;
constexpr std::uint32_t kHeaderLimit = 256 * 1024;
// A whole answer (one object, one page of a list) is read into memory: bounded, far
// above the largest page the operator asks for. A watch streams for as long as it
// lasts: no limit. (An unset Beast limit, boost::none, is not "none" in Boost 1.74:
// it refuses any Content-Length body whose head arrives in a read of its own, as
// proxies send it.)
constexpr std::uint64_t kResponseBodyLimit = std::uint64_t{1} << 30;
constexpr std::uint64_t kStreamBodyLimit = std::numeric_limits<std::uint64_t>::max();

// TCP keepalive: the first probe after 30 s of silence, then every 10 s; three
// unanswered probes break the connection (about 60 s in all).
constexpr int kKeepaliveIdleSeconds = 30;
constexpr int kKeepaliveIntervalSeconds = 10;
constexpr int kKeepaliveProbes = 3;

void enable_keepalive(tcp::socket& socket) {
  beast::error_code ignored;
  socket.set_option(asio::socket_base::keep_alive(true), ignored);
  const int fd = socket.native_handle();
  ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &kKeepaliveIdleSeconds, sizeof kKeepaliveIdleSeconds);
  ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &kKeepaliveIntervalSeconds, sizeof kKeepaliveIntervalSeconds);
  ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &kKeepaliveProbes, sizeof kKeepaliveProbes);
}

// Methods the server treats as idempotent: sending one twice has the effect of once.
bool is_idempotent(const std::string& method) {
  return method == "GET" || method == "HEAD" || method == "PUT" || method == "DELETE";
}

bool is_ip_literal(const std::string& host) {
  beast::error_code ec;
  asio::ip::make_address(host, ec);
  return !ec;
}

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

struct Endpoint {
  std::string host;
  std::string port;
  std::string host_header;
  std::string verify_name;  // name checked against the certificate
  std::string sni;          // empty for IP literals
  std::string path_prefix;
  std::string user_agent;
};

class Connection {
 public:
  Connection(const Endpoint& endpoint, ssl::context* tls) : endpoint_(endpoint) {
    if (tls) {
      tls_stream_.emplace(ioc_, *tls);
    } else {
      plain_stream_.emplace(ioc_);
    }
  }

  beast::tcp_stream& lowest() {
    return tls_stream_ ? beast::get_lowest_layer(*tls_stream_) : *plain_stream_;
  }

  // An idle HTTP/1.1 connection receives nothing: when its socket is readable, the
  // server closed it (FIN or RST, e.g. it restarted) or broke the protocol. Either
  // way it must not carry the next request.
  bool closed_by_peer() {
    pollfd fd{lowest().socket().native_handle(), POLLIN, 0};
    return ::poll(&fd, 1, 0) != 0;
  }

  // An IP literal (the in-cluster service address, a loopback test server) needs
  // no resolver: Asio runs each io_context's asynchronous resolver on a thread of
  // its own, which would cost one thread per pooled connection.
  std::vector<tcp::endpoint> resolve(Clock::time_point deadline) {
    beast::error_code ec;
    const auto address = asio::ip::make_address(endpoint_.host, ec);
    unsigned short port = 0;
    const char* end = endpoint_.port.data() + endpoint_.port.size();
    if (!ec && std::from_chars(endpoint_.port.data(), end, port).ptr == end && port != 0) {
      return {tcp::endpoint(address, port)};
    }
    tcp::resolver resolver(ioc_);
    ec = asio::error::would_block;
    std::vector<tcp::endpoint> endpoints;
    resolver.async_resolve(endpoint_.host, endpoint_.port,
                           [&](beast::error_code e, tcp::resolver::results_type r) {
                             ec = e;
                             for (const auto& entry : r) endpoints.push_back(entry.endpoint());
                           });
    if (!run_until(deadline) || ec) fail("resolving", ec, deadline);
    return endpoints;
  }

  void connect(Clock::time_point deadline) {
    const auto endpoints = resolve(deadline);
    beast::error_code ec = asio::error::would_block;
    lowest().expires_at(deadline);
    lowest().async_connect(endpoints, [&](beast::error_code e, const tcp::endpoint&) { ec = e; });
    run_until(deadline);
    if (ec) fail("connecting to", ec, deadline);
    lowest().socket().set_option(tcp::no_delay(true));
    enable_keepalive(lowest().socket());

    if (tls_stream_) {
      SSL* handle = tls_stream_->native_handle();
      if (!endpoint_.sni.empty() && !SSL_set_tlsext_host_name(handle, endpoint_.sni.c_str())) {
        throw TransportError("TLS: cannot set server name " + endpoint_.sni);
      }
      tls_stream_->set_verify_callback(ssl::host_name_verification(endpoint_.verify_name));
      ec = asio::error::would_block;
      lowest().expires_at(deadline);
      tls_stream_->async_handshake(ssl::stream_base::client, [&](beast::error_code e) { ec = e; });
      run_until(deadline);
      if (ec) fail("TLS handshake with", ec, deadline);
    }
  }

  void write(const http::request<http::string_body>& request, Clock::time_point deadline) {
    beast::error_code ec = asio::error::would_block;
    lowest().expires_at(deadline);
    with_stream([&](auto& stream) {
      http::async_write(stream, request, [&](beast::error_code e, std::size_t) { ec = e; });
    });
    run_until(deadline);
    if (ec) fail("sending to", ec, deadline);
  }

  // Reads a whole response. `received` tells whether any byte of it arrived.
  HttpResponse read_response(Clock::time_point deadline, bool& keep_alive, bool& received) {
    http::response_parser<http::string_body> parser;
    parser.body_limit(kResponseBodyLimit);
    parser.header_limit(kHeaderLimit);
    beast::error_code ec = asio::error::would_block;
    lowest().expires_at(deadline);
    std::size_t before = buffer_.size();
    with_stream([&](auto& stream) {
      http::async_read(stream, buffer_, parser, [&](beast::error_code e, std::size_t) { ec = e; });
    });
    run_until(deadline);
    received = parser.got_some() || buffer_.size() != before;
    if (ec) fail("reading from", ec, deadline);
    auto message = parser.release();
    keep_alive = message.keep_alive();
    return to_response(message, std::move(message.body()));
  }

  template <class Fields>
  static HttpResponse to_response(const http::response_header<Fields>& head, std::string body) {
    HttpResponse response;
    response.status = static_cast<int>(head.result_int());
    for (const auto& field : head) {
      response.headers[lower(std::string(field.name_string()))] = std::string(field.value());
    }
    response.body = std::move(body);
    return response;
  }

  http::request<http::string_body> make_request(const HttpRequest& in) const {
    http::verb verb = http::string_to_verb(in.method);
    if (verb == http::verb::unknown) throw TransportError("unknown HTTP method " + in.method);
    http::request<http::string_body> request{verb, endpoint_.path_prefix + in.target, 11};
    request.set(http::field::host, endpoint_.host_header);
    request.set(http::field::user_agent, endpoint_.user_agent);
    for (const auto& [name, value] : in.headers) request.set(name, value);
    request.keep_alive(true);
    if (!in.body.empty() || verb == http::verb::post || verb == http::verb::put ||
        verb == http::verb::patch) {
      request.body() = in.body;
      request.prepare_payload();
    }
    return request;
  }

  asio::io_context& ioc() { return ioc_; }
  beast::flat_buffer& buffer() { return buffer_; }

  template <class F>
  void with_stream(F&& f) {
    if (tls_stream_) {
      f(*tls_stream_);
    } else {
      f(*plain_stream_);
    }
  }

  // Runs queued work; false when the deadline passed first (the socket is closed
  // by the stream's own expiry in that case).
  bool run_until(Clock::time_point deadline) {
    ioc_.restart();
    ioc_.run_until(deadline + std::chrono::seconds(1));
    if (!ioc_.stopped()) {
      // Only the resolver can outlive its deadline (it has no expiry of its own).
      ioc_.stop();
      return false;
    }
    return true;
  }

  [[noreturn]] void fail(const char* what, const beast::error_code& ec, Clock::time_point deadline) {
    std::string detail = ec ? ec.message() : "timed out";
    if (ec == beast::error::timeout || Clock::now() >= deadline) detail = "timed out";
    if (ec.category() == asio::error::get_ssl_category()) {
      const char* reason = ERR_reason_error_string(ec.value());
      if (reason) detail = reason;
    }
    throw TransportError(std::string(what) + " " + endpoint_.host + ":" + endpoint_.port + ": " + detail);
  }

 private:
  const Endpoint& endpoint_;
  asio::io_context ioc_{1};
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls_stream_;
  std::optional<beast::tcp_stream> plain_stream_;
  beast::flat_buffer buffer_;
};

class BeastBodyStream final : public BodyStream {
 public:
  BeastBodyStream(std::unique_ptr<Connection> connection, Clock::time_point deadline)
      : connection_(std::move(connection)) {
    parser_.body_limit(kStreamBodyLimit);
    parser_.header_limit(kHeaderLimit);
    beast::error_code ec = asio::error::would_block;
    connection_->lowest().expires_at(deadline);
    connection_->with_stream([&](auto& stream) {
      http::async_read_header(stream, connection_->buffer(), parser_,
                              [&](beast::error_code e, std::size_t) { ec = e; });
    });
    connection_->run_until(deadline);
    if (ec) connection_->fail("reading from", ec, deadline);
    head_ = Connection::to_response(parser_.get(), {});
    if (head_.status < 200 || head_.status > 299) {
      // An error answer is short: read it whole so the caller sees the Status.
      std::string body;
      while (auto piece = read_some(std::chrono::seconds(10))) body += *piece;
      head_.body = std::move(body);
    }
  }

  const HttpResponse& head() const override { return head_; }

  std::optional<std::string> read_some(std::chrono::milliseconds idle_timeout) override {
    std::string out;
    while (out.empty()) {
      if (cancelled_.load() || parser_.is_done()) return std::nullopt;
      out.resize(kReadChunk);
      parser_.get().body().data = out.data();
      parser_.get().body().size = out.size();
      beast::error_code ec = asio::error::would_block;
      auto deadline = Clock::now() + idle_timeout;
      connection_->lowest().expires_at(deadline);
      connection_->with_stream([&](auto& stream) {
        http::async_read_some(stream, connection_->buffer(), parser_,
                              [&](beast::error_code e, std::size_t) { ec = e; });
      });
      connection_->run_until(deadline);
      if (ec == http::error::need_buffer) ec = {};
      if (cancelled_.load()) return std::nullopt;
      if (ec == http::error::end_of_stream && parser_.is_done()) ec = {};
      if (ec) connection_->fail("watching", ec, deadline);
      out.resize(kReadChunk - parser_.get().body().size);
    }
    return out;
  }

  void cancel() override {
    if (cancelled_.exchange(true)) return;
    asio::post(connection_->ioc(), [conn = connection_.get()] {
      beast::error_code ignored;
      conn->lowest().socket().cancel(ignored);
    });
  }

 private:
  std::unique_ptr<Connection> connection_;
  http::response_parser<http::buffer_body> parser_;
  HttpResponse head_;
  std::atomic<bool> cancelled_{false};
};

class BeastTransport final : public Transport {
 public:
  BeastTransport(const ClusterConfig& config, TransportOptions options)
      : options_(std::move(options)), tls_(ssl::context::tls_client) {
    endpoint_.host = config.host;
    endpoint_.port = config.port;
    bool default_port = (config.use_tls && config.port == "443") || (!config.use_tls && config.port == "80");
    std::string bracketed = config.host.find(':') != std::string::npos ? "[" + config.host + "]" : config.host;
    endpoint_.host_header = default_port ? bracketed : bracketed + ":" + config.port;
    endpoint_.verify_name = config.tls_server_name.empty() ? config.host : config.tls_server_name;
    endpoint_.sni = !config.tls_server_name.empty() ? config.tls_server_name
                    : is_ip_literal(config.host)   ? std::string{}
                                                   : config.host;
    endpoint_.path_prefix = config.path_prefix;
    endpoint_.user_agent = options_.user_agent;
    use_tls_ = config.use_tls;
    if (use_tls_) configure_tls(config);
  }

  HttpResponse send(const HttpRequest& request) override {
    const auto deadline = Clock::now() + request.timeout;
    for (int attempt = 0;; ++attempt) {
      auto [connection, reused] = acquire(deadline);
      auto message = connection->make_request(request);
      bool keep_alive = false;
      bool written = false;
      bool received = false;
      try {
        connection->write(message, deadline);
        written = true;
        HttpResponse response = connection->read_response(deadline, keep_alive, received);
        if (keep_alive) release(std::move(connection));
        return response;
      } catch (const TransportError&) {
        // A pooled connection the server closed while idle fails before any byte of
        // an answer arrives. When writing the request failed, the server never got
        // it whole and cannot have acted on it; when it was written and no answer
        // came, the server may have acted on it, so only an idempotent request is
        // sent once more on a fresh connection (a POST or PATCH twice could create
        // or change twice).
        bool safe = !written || (!received && is_idempotent(request.method));
        if (reused && safe && attempt == 0 && Clock::now() < deadline) continue;
        throw;
      }
    }
  }

  std::unique_ptr<BodyStream> open(const HttpRequest& request) override {
    const auto deadline = Clock::now() + request.timeout;
    auto connection = fresh(deadline);
    connection->write(connection->make_request(request), deadline);
    return std::make_unique<BeastBodyStream>(std::move(connection), deadline);
  }

  TransportStats stats() const override {
    std::lock_guard lock(mutex_);
    return {opened_.load(), idle_.size()};
  }

 private:
  void configure_tls(const ClusterConfig& config) {
    beast::error_code ec;
    if (config.insecure_skip_tls_verify) {
      spdlog::warn("TLS: {} sets insecure-skip-tls-verify: the API server's certificate is not verified",
                   config.source);
      tls_.set_verify_mode(ssl::verify_none);
    } else {
      tls_.set_verify_mode(ssl::verify_peer);
      if (config.ca_pem.empty()) {
        tls_.set_default_verify_paths(ec);
        if (ec) throw ConfigError("TLS: cannot load the system CA store: " + ec.message());
      } else {
        tls_.add_certificate_authority(asio::buffer(config.ca_pem), ec);
        if (ec) throw ConfigError("TLS: the certificate authority of " + config.source + " is not a valid PEM certificate");
      }
    }
    if (!config.client_cert_pem.empty()) {
      tls_.use_certificate_chain(asio::buffer(config.client_cert_pem), ec);
      if (ec) throw ConfigError("TLS: the client certificate of " + config.source + " is not a valid PEM certificate");
      tls_.use_private_key(asio::buffer(config.client_key_pem), ssl::context::pem, ec);
      if (ec) throw ConfigError("TLS: the client key of " + config.source + " is not a valid PEM key");
    }
  }

  std::unique_ptr<Connection> fresh(Clock::time_point deadline) {
    auto connection = std::make_unique<Connection>(endpoint_, use_tls_ ? &tls_ : nullptr);
    connection->connect(std::min(deadline, Clock::now() + options_.connect_timeout));
    ++opened_;
    return connection;
  }

  std::pair<std::unique_ptr<Connection>, bool> acquire(Clock::time_point deadline) {
    {
      std::lock_guard lock(mutex_);
      while (!idle_.empty()) {
        auto connection = std::move(idle_.back());
        idle_.pop_back();
        if (!connection->closed_by_peer()) return {std::move(connection), true};
      }
    }
    return {fresh(deadline), false};
  }

  void release(std::unique_ptr<Connection> connection) {
    std::lock_guard lock(mutex_);
    if (idle_.size() < options_.max_idle_connections) idle_.push_back(std::move(connection));
  }

  TransportOptions options_;
  Endpoint endpoint_;
  bool use_tls_ = true;
  ssl::context tls_;
  mutable std::mutex mutex_;
  std::deque<std::unique_ptr<Connection>> idle_;
  std::atomic<std::size_t> opened_{0};
};

}  // namespace

std::unique_ptr<Transport> make_beast_transport(const ClusterConfig& config, TransportOptions options) {
  return std::make_unique<BeastTransport>(config, std::move(options));
}

}  // namespace cpo::kube
