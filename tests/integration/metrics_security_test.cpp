// The operator's /metrics as a scraper meets it: HTTPS, and only for a bearer token
// that a TokenReview authenticates and a SubjectAccessReview allows to get /metrics
// (the chart's metrics-reader ClusterRole); plain HTTP on loopback only when asked.
#include <catch2/catch.hpp>

#include <fstream>

#include "support/config_environment.hpp"

using namespace cpo;
using namespace cpo::testing::config;

namespace {

struct Scrape {
  std::string code;  // HTTP status, "000" when no HTTP answer came
  std::string body;
};

Scrape scrape(const testing::TestCluster& cluster, unsigned short port, const std::string& token,
              const std::string& tls = "-k", const std::string& scheme = "https") {
  const std::filesystem::path body = cluster.dir() / ("scrape-" + std::to_string(port) + ".txt");
  std::string command = "curl -s " + tls + " -o " + testing::shell_quote(body.string()) + " -w '%{http_code}' " +
                        "--max-time 10 " + scheme + "://127.0.0.1:" + std::to_string(port) + "/metrics";
  if (!token.empty()) command += " -H " + testing::shell_quote("Authorization: Bearer " + token);
  auto result = testing::run_command(command);
  std::ifstream in(body);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::filesystem::remove(body);
  return {result.output.substr(0, 3), text};
}

std::string token_of(ConfigEnvironment& env, const std::string& account) {
  if (!env.admin.find(kube::resources::serviceaccounts, {kNs, account, ""})) {
    env.kubectl("-n " + kNs + " create serviceaccount " + account);
  }
  std::string token = env.kubectl("-n " + kNs + " create token " + account + " --duration=10m").output;
  token.erase(token.find_last_not_of(" \r\n") + 1);
  return token;
}

// A scraper bound to what the chart's metrics-reader ClusterRole grants.
std::string scraper_token(ConfigEnvironment& env) {
  env.kubectl("apply -f - <<'EOF'\n"
              "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: cpo-test-metrics-reader\n"
              "rules:\n- nonResourceURLs: [\"/metrics\"]\n  verbs: [\"get\"]\n---\n"
              "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata:\n  name: cpo-test-metrics-reader\n"
              "roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cpo-test-metrics-reader}\n"
              "subjects:\n- {kind: ServiceAccount, name: metrics-scraper, namespace: " + kNs + "}\nEOF");
  return token_of(env, "metrics-scraper");
}

}  // namespace

TEST_CASE("Metrics: HTTPS with a self-signed certificate, only to tokens allowed to get /metrics",
          "[security][metrics][integration]") {
  ConfigEnvironment env(false);
  env.start({"--metrics-secure=true"});
  const unsigned short port = env.op->metrics_port();
  const std::string scraper = scraper_token(env);
  const std::string stranger = token_of(env, "metrics-stranger");
  INFO("operator log:\n" << env.op->log_tail());

  // RBAC reaches the authorizer through its informers: give it a moment.
  REQUIRE(testing::eventually([&] { return scrape(env.cluster, port, scraper).code == "200"; }, std::chrono::seconds(20)));
  const Scrape allowed = scrape(env.cluster, port, scraper);
  CHECK(allowed.body.find("# TYPE ") != std::string::npos);
  CHECK(allowed.body.find("rest_client_requests_total") != std::string::npos);

  const Scrape anonymous = scrape(env.cluster, port, "");
  CHECK(anonymous.code == "401");
  CHECK(anonymous.body.find("bearer token is required") != std::string::npos);
  CHECK(scrape(env.cluster, port, "not-a-token").code == "401");
  const Scrape denied = scrape(env.cluster, port, stranger);
  CHECK(denied.code == "403");
  CHECK(denied.body.find("system:serviceaccount:" + kNs + ":metrics-stranger") != std::string::npos);
  // No plain HTTP on the TLS port, and the health port stays plain.
  CHECK(scrape(env.cluster, port, scraper, "", "http").code != "200");
  int status = 0;
  env.op->get(env.op->health_port(), "/readyz", &status);
  CHECK(status == 200);

  // Tokens never reach the log.
  env.op->stop();
  const std::string log = env.op->log_tail(1 << 20);
  CHECK(log.find("serving /metrics over HTTPS") != std::string::npos);
  CHECK(log.find(scraper) == std::string::npos);
  CHECK(log.find(stranger) == std::string::npos);
}

TEST_CASE("Metrics: a certificate from --metrics-cert-dir is served and verifies", "[security][metrics][integration]") {
  ConfigEnvironment env(false);
  const auto dir = env.cluster.dir() / "metrics-cert";
  std::filesystem::create_directories(dir);
  const std::string d = testing::shell_quote(dir.string());
  auto made = testing::run_command("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 "
                                   "-subj /CN=metrics -addext subjectAltName=IP:127.0.0.1 -keyout " + d +
                                   "/tls.key -out " + d + "/tls.crt 2>&1");
  REQUIRE(made.exit_code == 0);
  env.start({"--metrics-cert-dir=" + dir.string()});
  const std::string scraper = scraper_token(env);
  INFO("operator log:\n" << env.op->log_tail());
  const std::string verify = "--cacert " + d + "/tls.crt";
  CHECK(testing::eventually([&] { return scrape(env.cluster, env.op->metrics_port(), scraper, verify).code == "200"; },
                            std::chrono::seconds(20)));
}
