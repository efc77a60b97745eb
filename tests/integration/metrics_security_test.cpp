// The operator's /metrics as a scraper meets it: HTTPS, and only for a bearer token
// that a TokenReview authenticates and a SubjectAccessReview allows to get /metrics
// (the chart's metrics-reader ClusterRole); plain HTTP on loopback only when asked.
#include <catch2/catch.hpp>

#include <fstream>
#include <thread>

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

namespace fs = std::filesystem;

// A CA of its own and a certificate for 127.0.0.1 it signs: in `dir`, NAME-ca.crt,
// NAME.crt and NAME.key.
void make_signed_pair(const fs::path& dir, const std::string& name) {
  const std::string at = testing::shell_quote(dir.string()) + "/" + name;
  const std::string ec = "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 ";
  auto ca = testing::run_command(ec + "-subj /CN=" + name + "-ca -keyout " + at + "-ca.key -out " + at + "-ca.crt 2>&1");
  REQUIRE(ca.exit_code == 0);
  auto leaf = testing::run_command(ec + "-subj /CN=metrics-" + name + " -addext subjectAltName=IP:127.0.0.1 " +
                                   "-addext basicConstraints=critical,CA:FALSE -CA " + at + "-ca.crt -CAkey " + at +
                                   "-ca.key -keyout " + at + ".key -out " + at + ".crt 2>&1");
  REQUIRE(leaf.exit_code == 0);
}

// Puts a pair in `mounted` as the kubelet updates a Secret volume: the files go to
// a new directory, the `..data` symlink is renamed over to point at it, and
// tls.crt and tls.key are symlinks through `..data`.
void publish(const fs::path& mounted, const std::string& version, const fs::path& certificate, const fs::path& key) {
  const fs::path payload = mounted / ("..version-" + version);
  fs::create_directory(payload);
  fs::copy_file(certificate, payload / "tls.crt");
  fs::copy_file(key, payload / "tls.key");
  fs::create_directory_symlink(payload.filename(), mounted / "..data_tmp");
  fs::rename(mounted / "..data_tmp", mounted / "..data");
  for (const char* file : {"tls.crt", "tls.key"}) {
    if (!fs::is_symlink(mounted / file)) fs::create_symlink(fs::path("..data") / file, mounted / file);
  }
}

std::size_t occurrences(const std::string& text, const std::string& part) {
  std::size_t count = 0;
  for (auto at = text.find(part); at != std::string::npos; at = text.find(part, at + part.size())) ++count;
  return count;
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

TEST_CASE("Metrics: a rotated --metrics-cert-dir pair is served within the reload interval, an unusable one is not",
          "[security][metrics][integration]") {
  ConfigEnvironment env(false);
  const fs::path work = env.cluster.dir() / "metrics-rotation";
  const fs::path mounted = work / "mounted";
  fs::remove_all(work);
  fs::create_directories(mounted);
  make_signed_pair(work, "a");
  make_signed_pair(work, "b");
  publish(mounted, "1", work / "a.crt", work / "a.key");
  env.start({"--metrics-cert-dir=" + mounted.string(), "--metrics-cert-reload-interval=1s"});
  const std::string scraper = scraper_token(env);
  INFO("operator log:\n" << env.op->log_tail());
  auto verifies_with_ca = [&](const std::string& name) {
    const std::string ca = "--cacert " + testing::shell_quote((work / (name + "-ca.crt")).string());
    return scrape(env.cluster, env.op->metrics_port(), scraper, ca).code == "200";
  };
  auto log = [&] { return env.op->log_tail(1 << 20); };

  REQUIRE(testing::eventually([&] { return verifies_with_ca("a"); }, std::chrono::seconds(20)));
  CHECK_FALSE(verifies_with_ca("b"));

  // Rotated to a pair of another CA: new connections get it within a few periods.
  publish(mounted, "2", work / "b.crt", work / "b.key");
  CHECK(testing::eventually([&] { return verifies_with_ca("b"); }, std::chrono::seconds(5)));
  CHECK_FALSE(verifies_with_ca("a"));
  CHECK(occurrences(log(), "metrics certificate reloaded from " + mounted.string() + ": subject CN=metrics-b") == 1);

  // The certificate of B with the key of A: B stays in service, reported once.
  publish(mounted, "3", work / "b.crt", work / "a.key");
  const std::string warning = "metrics certificate not reloaded: " + mounted.string() +
                              "/tls.key is not the private key of the certificate in " + mounted.string() + "/tls.crt";
  CHECK(testing::eventually([&] { return occurrences(log(), warning) > 0; }, std::chrono::seconds(5)));
  std::this_thread::sleep_for(std::chrono::seconds(3));  // three more polls of the same pair
  CHECK(occurrences(log(), warning) == 1);
  CHECK(occurrences(log(), "metrics certificate not reloaded") == 1);
  CHECK(verifies_with_ca("b"));
  CHECK_FALSE(verifies_with_ca("a"));

  // A usable pair again is loaded.
  publish(mounted, "4", work / "a.crt", work / "a.key");
  CHECK(testing::eventually([&] { return verifies_with_ca("a"); }, std::chrono::seconds(5)));
  CHECK(occurrences(log(), "metrics certificate reloaded from " + mounted.string() + ": subject CN=metrics-a") == 1);
}
