// The HTTP transport against a scripted local server (plain HTTP on 127.0.0.1):
// which requests are sent again on a fresh connection when a pooled one turns out
// to be closed, and the TCP keepalive of its sockets. Also how the client bounds
// and counts a watch.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "kube/client.hpp"
#include "kube/http.hpp"

using namespace cpo;
using namespace std::chrono_literals;

namespace {

std::string lower(std::string text) {
  for (auto& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

// Serves one connection at a time. For every request it asks `script` (with the
// method and the request's number, from 0) for the whole answer to send, or
// std::nullopt to close the connection without answering.
class ScriptedHttpServer {
 public:
  using Script = std::function<std::optional<std::string>(const std::string& method, int index)>;

  explicit ScriptedHttpServer(Script script) : script_(std::move(script)) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = 0;
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
        ::listen(listen_fd_, 8) != 0) {
      throw std::runtime_error("cannot listen on 127.0.0.1");
    }
    socklen_t length = sizeof address;
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] { serve(); });
  }

  ~ScriptedHttpServer() {
    stopping_ = true;
    ::shutdown(listen_fd_, SHUT_RDWR);  // wakes accept()
    {
      std::lock_guard lock(mutex_);
      if (connection_fd_ >= 0) ::shutdown(connection_fd_, SHUT_RDWR);  // wakes recv()
    }
    thread_.join();
    ::close(listen_fd_);
  }

  unsigned short port() const { return port_; }

  std::vector<std::string> methods() const {
    std::lock_guard lock(mutex_);
    return methods_;
  }

  static constexpr std::string_view kPause = "<pause>";

  static std::string ok(const std::string& body = "{}") {
    return "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
           "\r\n\r\n" + body;
  }

 private:
  void serve() {
    while (!stopping_) {
      int fd = ::accept(listen_fd_, nullptr, nullptr);
      if (fd < 0) return;
      {
        std::lock_guard lock(mutex_);
        connection_fd_ = fd;
      }
      std::string buffer;
      while (auto method = read_request(fd, buffer)) {
        int index;
        {
          std::lock_guard lock(mutex_);
          index = static_cast<int>(methods_.size());
          methods_.push_back(*method);
        }
        auto reply = script_(*method, index);
        if (!reply) break;
        if (!send_reply(fd, *reply)) break;
      }
      {
        std::lock_guard lock(mutex_);
        connection_fd_ = -1;
      }
      ::close(fd);
    }
  }

  // Sends the answer; at each kPause in it, waits 100 ms first (the client reads what
  // came so far on its own, as from a proxy that flushes the head before the body).
  static bool send_reply(int fd, const std::string& reply) {
    std::size_t from = 0;
    while (true) {
      const std::size_t pause = reply.find(kPause, from);
      const std::string part = reply.substr(from, pause == std::string::npos ? std::string::npos : pause - from);
      if (!part.empty() && ::send(fd, part.data(), part.size(), MSG_NOSIGNAL) < 0) return false;
      if (pause == std::string::npos) return true;
      std::this_thread::sleep_for(100ms);
      from = pause + kPause.size();
    }
  }

  // Reads one whole request (head and Content-Length body); returns its method,
  // or std::nullopt when the peer closed the connection first.
  static std::optional<std::string> read_request(int fd, std::string& buffer) {
    auto fill = [&] {
      char chunk[4096];
      ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
      if (n <= 0) return false;
      buffer.append(chunk, static_cast<std::size_t>(n));
      return true;
    };
    std::size_t head_end;
    while ((head_end = buffer.find("\r\n\r\n")) == std::string::npos) {
      if (!fill()) return std::nullopt;
    }
    std::string head = buffer.substr(0, head_end);
    std::size_t body_length = 0;
    auto at = lower(head).find("\r\ncontent-length:");
    if (at != std::string::npos) body_length = std::stoul(head.substr(at + 17));
    while (buffer.size() < head_end + 4 + body_length) {
      if (!fill()) return std::nullopt;
    }
    buffer.erase(0, head_end + 4 + body_length);
    return head.substr(0, head.find(' '));
  }

  Script script_;
  int listen_fd_ = -1;
  unsigned short port_ = 0;
  std::atomic<bool> stopping_ = false;
  std::thread thread_;
  mutable std::mutex mutex_;
  int connection_fd_ = -1;
  std::vector<std::string> methods_;
};

std::unique_ptr<kube::Transport> transport_to(const ScriptedHttpServer& server) {
  kube::ClusterConfig config;
  kube::set_server(config, "http://127.0.0.1:" + std::to_string(server.port()));
  return kube::make_beast_transport(config);
}

kube::HttpRequest request(const std::string& method) {
  kube::HttpRequest r;
  r.method = method;
  r.target = "/api/v1/namespaces/ops/configmaps";
  if (method == "POST" || method == "PATCH" || method == "PUT") r.body = R"({"metadata":{"name":"x"}})";
  r.timeout = 10s;
  return r;
}

// This process's sockets connected to 127.0.0.1:port (the client side).
std::vector<int> client_sockets_to(unsigned short port) {
  std::vector<int> found;
  for (int fd = 0; fd < 4096; ++fd) {
    struct stat info {};
    if (::fstat(fd, &info) != 0 || !S_ISSOCK(info.st_mode)) continue;
    sockaddr_in peer{};
    socklen_t length = sizeof peer;
    if (::getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &length) != 0) continue;
    if (peer.sin_family == AF_INET && ntohs(peer.sin_port) == port) found.push_back(fd);
  }
  return found;
}

int int_option(int fd, int level, int name) {
  int value = -1;
  socklen_t length = sizeof value;
  ::getsockopt(fd, level, name, &value, &length);
  return value;
}

}  // namespace

TEST_CASE("a POST whose pooled connection closes without an answer is not sent again", "[transport]") {
  // The server answers the first request, then reads the POST and closes the
  // connection without a word: it may well have acted on it.
  ScriptedHttpServer server([](const std::string&, int index) -> std::optional<std::string> {
    if (index == 1) return std::nullopt;
    return ScriptedHttpServer::ok();
  });
  auto transport = transport_to(server);
  REQUIRE(transport->send(request("GET")).status == 200);  // leaves a pooled connection
  SECTION("POST") {
    CHECK_THROWS_AS(transport->send(request("POST")), kube::TransportError);
    CHECK(server.methods() == std::vector<std::string>{"GET", "POST"});
  }
  SECTION("PATCH") {
    CHECK_THROWS_AS(transport->send(request("PATCH")), kube::TransportError);
    CHECK(server.methods() == std::vector<std::string>{"GET", "PATCH"});
  }
}

TEST_CASE("an idempotent request whose pooled connection closes without an answer is sent again",
          "[transport]") {
  ScriptedHttpServer server([](const std::string&, int index) -> std::optional<std::string> {
    if (index == 1) return std::nullopt;
    return ScriptedHttpServer::ok(R"({"n":)" + std::to_string(index) + "}");
  });
  auto transport = transport_to(server);
  REQUIRE(transport->send(request("GET")).status == 200);
  SECTION("GET") {
    auto response = transport->send(request("GET"));
    CHECK(response.body == R"({"n":2})");
    CHECK(server.methods() == std::vector<std::string>{"GET", "GET", "GET"});
  }
  SECTION("PUT") {
    auto response = transport->send(request("PUT"));
    CHECK(response.body == R"({"n":2})");
    CHECK(server.methods() == std::vector<std::string>{"GET", "PUT", "PUT"});
  }
  CHECK(transport->stats().connections_opened == 2);
}

TEST_CASE("connections probe a silent peer with TCP keepalive", "[transport]") {
  ScriptedHttpServer server([](const std::string&, int) -> std::optional<std::string> {
    return ScriptedHttpServer::ok();
  });
  auto transport = transport_to(server);
  REQUIRE(transport->send(request("GET")).status == 200);  // the connection stays open, idle
  auto sockets = client_sockets_to(server.port());
  REQUIRE(sockets.size() == 1);
  int fd = sockets.front();
  CHECK(int_option(fd, SOL_SOCKET, SO_KEEPALIVE) == 1);
  CHECK(int_option(fd, IPPROTO_TCP, TCP_KEEPIDLE) == 30);
  CHECK(int_option(fd, IPPROTO_TCP, TCP_KEEPINTVL) == 10);
  CHECK(int_option(fd, IPPROTO_TCP, TCP_KEEPCNT) == 3);
}

namespace {

// A transport whose watches stay silent and record the idle timeout they are read with.
class SilentWatchTransport final : public kube::Transport {
 public:
  struct Body final : kube::BodyStream {
    explicit Body(SilentWatchTransport& owner) : owner(owner) { response.status = 200; }
    const kube::HttpResponse& head() const override { return response; }
    std::optional<std::string> read_some(std::chrono::milliseconds idle_timeout) override {
      owner.idle_timeouts.push_back(idle_timeout);
      return std::nullopt;
    }
    void cancel() override {}
    SilentWatchTransport& owner;
    kube::HttpResponse response;
  };

  kube::HttpResponse send(const kube::HttpRequest&) override { throw kube::TransportError("not here"); }
  std::unique_ptr<kube::BodyStream> open(const kube::HttpRequest&) override {
    return std::make_unique<Body>(*this);
  }
  kube::TransportStats stats() const override { return {}; }

  std::vector<std::chrono::milliseconds> idle_timeouts;
};

}  // namespace

TEST_CASE("a silent watch is given up within 90 s, whatever its timeoutSeconds", "[transport]") {
  kube::ClusterConfig config;
  config.server = "http://fake";
  auto transport = std::make_unique<SilentWatchTransport>();
  auto* fake = transport.get();
  std::vector<std::string> methods;
  kube::ClientOptions options;
  options.observer = [&](std::string_view method, std::string_view, std::chrono::duration<double>) {
    methods.emplace_back(method);
  };
  kube::Client client(config, std::move(transport), options);

  kube::ListOptions long_watch{.timeout_seconds = 600, .allow_watch_bookmarks = true};
  CHECK_FALSE(client.watch(kube::resources::configmaps, "ops", long_watch)->next());
  kube::ListOptions no_timeout{.allow_watch_bookmarks = true};
  CHECK_FALSE(client.watch(kube::resources::configmaps, "ops", no_timeout)->next());
  kube::ListOptions short_watch{.timeout_seconds = 5};
  CHECK_FALSE(client.watch(kube::resources::configmaps, "ops", short_watch)->next());

  REQUIRE(fake->idle_timeouts.size() == 3);
  CHECK(fake->idle_timeouts[0] == 90s);
  CHECK(fake->idle_timeouts[1] == 90s);
  CHECK(fake->idle_timeouts[2] == 65s);  // the server ends it after 5 s anyway
  // Watches are counted as GETs in rest_client_requests_total, as client-go does.
  CHECK(methods == std::vector<std::string>{"GET", "GET", "GET"});
}

TEST_CASE("an answer whose head arrives before its body is read whole", "[transport]") {
  // Proxies in front of the API server flush the head first; the body, with its
  // Content-Length, follows in a later read.
  const std::string body = R"({"kind":"ConfigMapList","items":[]})";
  const std::string head = "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n";
  auto answering = [&](const std::string& status) {
    return [&, status](const std::string&, int) -> std::optional<std::string> {
      return "HTTP/1.1 " + status + "\r\n" + head + std::string(ScriptedHttpServer::kPause) + body;
    };
  };
  ScriptedHttpServer server(answering("200 OK"));
  auto whole = transport_to(server)->send(request("GET"));
  CHECK(whole.status == 200);
  CHECK(whole.body == body);
  // A watch refused the same way: its short answer is read whole too.
  ScriptedHttpServer refusing(answering("429 Too Many Requests"));
  auto stream = transport_to(refusing)->open(request("GET"));
  CHECK(stream->head().status == 429);
  CHECK(stream->head().body == body);
}
