#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>
#include <spdlog/details/log_msg.h>

#include "runtime/backoff.hpp"
#include "runtime/logging.hpp"
#include "runtime/probe_server.hpp"
#include "runtime/store.hpp"

using namespace cpo::runtime;

TEST_CASE("Bind addresses: host:port, :port, 0 disables, mistakes are explained", "[probes]") {
  auto any = parse_bind_address(":8081", "--health-probe-bind-address");
  CHECK(any.host.empty());
  CHECK(any.port == 8081);
  CHECK_FALSE(any.disabled);
  auto local = parse_bind_address("127.0.0.1:0", "--metrics-bind-address");
  CHECK(local.host == "127.0.0.1");
  CHECK(local.port == 0);
  CHECK(parse_bind_address("0", "--metrics-bind-address").disabled);
  CHECK(parse_bind_address("[::1]:9000", "x").host == "::1");
  CHECK_THROWS_WITH(parse_bind_address("8081", "--health-probe-bind-address"),
                    Catch::Contains("--health-probe-bind-address: \"8081\" is not an address"));
  CHECK_THROWS_WITH(parse_bind_address(":http", "--metrics-bind-address"), Catch::Contains("is not a port number"));
  CHECK_THROWS_WITH(parse_bind_address(":70000", "--metrics-bind-address"), Catch::Contains("is not a port number"));
}

TEST_CASE("Check reports in the API server's style", "[probes]") {
  std::vector<std::pair<std::string, Check>> checks = {
      {"ping", [] { return std::nullopt; }},
      {"informers", [] { return std::optional<std::string>("the cache of nodes has not synced yet"); }},
      {"throws", []() -> std::optional<std::string> { throw std::runtime_error("boom"); }},
  };
  auto failed = run_checks(checks, false);
  CHECK(failed.status == 500);
  CHECK(failed.body ==
        "[+]ping ok\n[-]informers failed: the cache of nodes has not synced yet\n[-]throws failed: boom\ncheck failed\n");
  checks.resize(1);
  CHECK(run_checks(checks, false).body == "ok");
  CHECK(run_checks(checks, true).body == "[+]ping ok\ncheck passed\n");
  CHECK(run_checks({}, false).status == 200);
}

TEST_CASE("Log settings, and JSON lines that always parse", "[logging]") {
  CHECK(parse_log_format("json") == LogFormat::Json);
  CHECK(parse_log_format("text") == LogFormat::Text);
  CHECK_THROWS_WITH(parse_log_format("yaml"), "--log-format: \"yaml\" is not one of text, json");
  CHECK_THROWS_WITH(setup_logging(LogFormat::Text, "loud"), Catch::Contains("--log-level: \"loud\""));

  auto line = [](LogFormat format, const std::string& message) {
    spdlog::details::log_msg msg("clusterpolicy-operator", spdlog::level::warn, message);
    spdlog::memory_buf_t out;
    log_formatter(format)->format(msg, out);
    return std::string(out.data(), out.size());
  };
  for (const std::string message : {"a \"quoted\"\\path\n\ttab\x01", "ünïcode", "", "{\"msg\": 1}"}) {
    INFO(message);
    const std::string text = line(LogFormat::Json, message);
    CHECK(text.back() == '\n');
    const auto parsed = nlohmann::json::parse(text);
    CHECK(parsed["msg"] == message);
    CHECK(parsed["level"] == "warning");
    CHECK(parsed["logger"] == "clusterpolicy-operator");
    CHECK(parsed["ts"].get<std::string>().back() == 'Z');
  }
  // Bytes that are not UTF-8 do not break the line.
  CHECK(nlohmann::json::parse(line(LogFormat::Json, "bad \xff byte"))["msg"] == "bad \xef\xbf\xbd byte");
  CHECK_THAT(line(LogFormat::Text, "plain"), Catch::Contains("warning plain"));
}

TEST_CASE("Backoff grows with jitter up to its cap and resets", "[backoff]") {
  Backoff backoff(std::chrono::milliseconds(800), std::chrono::seconds(30), 2.0, 0.5);
  auto first = backoff.next();
  CHECK(first >= std::chrono::milliseconds(800));
  CHECK(first < std::chrono::milliseconds(1200));
  auto second = backoff.next();
  CHECK(second >= std::chrono::milliseconds(1600));
  for (int i = 0; i < 20; ++i) CHECK(backoff.next() <= std::chrono::seconds(30));
  CHECK(backoff.next() >= std::chrono::seconds(30) - std::chrono::milliseconds(1));
  backoff.reset();
  CHECK(backoff.next() < std::chrono::milliseconds(1200));
}

TEST_CASE("Store keys, replace and erase", "[store]") {
  Store store;
  auto obj = [](const char* ns, const char* name) {
    return std::make_shared<const nlohmann::json>(nlohmann::json{{"metadata", {{"namespace", ns}, {"name", name}}}});
  };
  CHECK(object_key(*obj("ns", "a")) == "ns/a");
  CHECK(object_key(*obj("", "node-1")) == "node-1");
  CHECK(store.upsert("ns/a", obj("ns", "a")) == nullptr);
  CHECK(store.upsert("ns/a", obj("ns", "a")) != nullptr);
  CHECK(store.size() == 1);
  auto previous = store.replace({{"ns/b", obj("ns", "b")}});
  CHECK(previous.count("ns/a") == 1);
  CHECK(store.keys() == std::vector<std::string>{"ns/b"});
  CHECK(store.erase("ns/b") != nullptr);
  CHECK(store.erase("ns/b") == nullptr);
  CHECK(store.get("ns/b") == nullptr);
}
