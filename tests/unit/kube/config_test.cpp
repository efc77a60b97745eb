#include <catch2/catch.hpp>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>

#include "kube/config.hpp"

using namespace cpo::kube;
namespace fs = std::filesystem;

namespace {

// A temporary folder removed when the test ends.
struct TempDir {
  fs::path path;
  TempDir() {
    std::random_device rd;
    path = fs::temp_directory_path() / ("cpo-config-test-" + std::to_string(rd()));
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
  fs::path write(const std::string& name, const std::string& text) const {
    fs::path file = path / name;
    fs::create_directories(file.parent_path());
    std::ofstream(file) << text;
    return file;
  }
};

// Sets an environment variable for the scope of a test.
struct ScopedEnv {
  std::string name;
  std::optional<std::string> saved;
  ScopedEnv(std::string n, const char* value) : name(std::move(n)) {
    if (const char* old = std::getenv(name.c_str())) saved = old;
    if (value) setenv(name.c_str(), value, 1); else unsetenv(name.c_str());
  }
  ~ScopedEnv() {
    if (saved) setenv(name.c_str(), saved->c_str(), 1); else unsetenv(name.c_str());
  }
};

const char* kTwoContexts = R"(apiVersion: v1
kind: Config
current-context: admin
clusters:
- name: local
  cluster:
    server: https://127.0.0.1:6443
    certificate-authority-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCmZha2UKLS0tLS1FTkQgQ0VSVElGSUNBVEUtLS0tLQo=
- name: remote
  cluster:
    server: https://api.example.invalid/k8s/clusters/c-1/
    insecure-skip-tls-verify: true
    tls-server-name: kubernetes.default
contexts:
- name: admin
  context: {cluster: local, user: admin, namespace: gpu-operator}
- name: operator
  context: {cluster: remote, user: operator}
users:
- name: admin
  user: {token: admin-token}
- name: operator
  user:
    tokenFile: tokens/operator
    client-certificate: certs/client.crt
    client-key: certs/client.key
)";

}  // namespace

TEST_CASE("kubeconfig: the current context picks cluster, user and namespace", "[config]") {
  TempDir dir;
  auto file = dir.write("kubeconfig", kTwoContexts);
  ClusterConfig c = load_kubeconfig(file);
  CHECK(c.server == "https://127.0.0.1:6443");
  CHECK(c.host == "127.0.0.1");
  CHECK(c.port == "6443");
  CHECK(c.use_tls);
  CHECK(c.path_prefix.empty());
  CHECK(c.ca_pem == "-----BEGIN CERTIFICATE-----\nfake\n-----END CERTIFICATE-----\n");
  CHECK(c.token == "admin-token");
  CHECK(c.ns == "gpu-operator");
  CHECK_FALSE(c.insecure_skip_tls_verify);
  CHECK(c.source.find("context admin") != std::string::npos);
}

TEST_CASE("kubeconfig: an explicit context, files relative to the kubeconfig", "[config]") {
  TempDir dir;
  auto file = dir.write("sub/kubeconfig", kTwoContexts);
  dir.write("sub/certs/client.crt", "CERT");
  dir.write("sub/certs/client.key", "KEY");
  dir.write("sub/tokens/operator", "tok\n");
  ClusterConfig c = load_kubeconfig(file, "operator");
  CHECK(c.host == "api.example.invalid");
  CHECK(c.port == "443");
  CHECK(c.path_prefix == "/k8s/clusters/c-1");
  CHECK(c.insecure_skip_tls_verify);
  CHECK(c.tls_server_name == "kubernetes.default");
  CHECK(c.client_cert_pem == "CERT");
  CHECK(c.client_key_pem == "KEY");
  CHECK(c.token_file == (dir.path / "sub" / "tokens" / "operator").string());
  BearerToken token(c);
  CHECK(token.get() == "tok");
}

TEST_CASE("kubeconfig: mistakes name the file and the missing piece", "[config]") {
  TempDir dir;
  CHECK_THROWS_WITH(load_kubeconfig(dir.path / "nope"), Catch::Contains("does not exist"));
  auto file = dir.write("kubeconfig", kTwoContexts);
  CHECK_THROWS_WITH(load_kubeconfig(file, "missing"), Catch::Contains("no context named \"missing\""));
  CHECK_THROWS_WITH(load_kubeconfig(dir.write("bad", "clusters: [")), Catch::Contains(dir.path.string()));
  CHECK_THROWS_WITH(load_kubeconfig(dir.write("list", "- a\n- b\n")), Catch::Contains("expected a YAML mapping"));
  CHECK_THROWS_WITH(load_kubeconfig(dir.write("nocur", "contexts: []\n")), Catch::Contains("no current-context"));
  CHECK_THROWS_WITH(load_kubeconfig(dir.write("noserver", R"(current-context: c
contexts: [{name: c, context: {cluster: x}}]
clusters: [{name: x, cluster: {}}]
)")), Catch::Contains("has no server"));
  CHECK_THROWS_WITH(load_kubeconfig(dir.write("scheme", R"(current-context: c
contexts: [{name: c, context: {cluster: x}}]
clusters: [{name: x, cluster: {server: "127.0.0.1:6443"}}]
)")), Catch::Contains("must start with https:// or http://"));
  CHECK_THROWS_WITH(load_kubeconfig(dir.write("b64", R"(current-context: c
contexts: [{name: c, context: {cluster: x}}]
clusters: [{name: x, cluster: {server: "https://h", certificate-authority-data: "%%%"}}]
)")), Catch::Contains("certificate-authority-data: invalid base64"));
  CHECK_THROWS_WITH(load_kubeconfig(dir.write("cafile", R"(current-context: c
contexts: [{name: c, context: {cluster: x}}]
clusters: [{name: x, cluster: {server: "https://h", certificate-authority: missing.crt}}]
)")), Catch::Contains("missing.crt"));
  CHECK_THROWS_WITH(load_kubeconfig(dir.write("halfcert", R"(current-context: c
contexts: [{name: c, context: {cluster: x, user: u}}]
clusters: [{name: x, cluster: {server: "https://h"}}]
users: [{name: u, user: {client-certificate-data: Q0VSVA==}}]
)")), Catch::Contains("needs both a client certificate and a client key"));
  CHECK_THROWS_WITH(load_kubeconfig(dir.write("exec", R"(current-context: c
contexts: [{name: c, context: {cluster: x, user: u}}]
clusters: [{name: x, cluster: {server: "https://h"}}]
users: [{name: u, user: {exec: {command: aws}}}]
)")), Catch::Contains("exec or auth-provider"));
}

TEST_CASE("Server URLs: ports, IPv6, http", "[config]") {
  ClusterConfig c;
  set_server(c, "https://[::1]:8443");
  CHECK(c.host == "::1");
  CHECK(c.port == "8443");
  set_server(c, "http://localhost");
  CHECK_FALSE(c.use_tls);
  CHECK(c.port == "80");
  CHECK_THROWS_AS(set_server(c, "https://"), ConfigError);
}

TEST_CASE("In-cluster configuration from the service-account mount", "[config]") {
  TempDir dir;
  dir.write("sa/token", "sa-token-1\n");
  dir.write("sa/ca.crt", "CA");
  dir.write("sa/namespace", "gpu-operator\n");
  {
    ScopedEnv host("KUBERNETES_SERVICE_HOST", "10.96.0.1");
    ScopedEnv port("KUBERNETES_SERVICE_PORT", "443");
    ClusterConfig c = load_in_cluster(dir.path / "sa");
    CHECK(c.server == "https://10.96.0.1:443");
    CHECK(c.ca_pem == "CA");
    CHECK(c.ns == "gpu-operator");
    CHECK(c.token.empty());
    BearerToken token(c, std::chrono::seconds(0));
    CHECK(token.get() == "sa-token-1");
    // Bound tokens rotate: the file is read again.
    dir.write("sa/token", "sa-token-2\n");
    CHECK(token.get() == "sa-token-2");
    // A failed re-read keeps the last good token.
    fs::remove(dir.path / "sa" / "token");
    CHECK(token.get() == "sa-token-2");
  }
  ScopedEnv host("KUBERNETES_SERVICE_HOST", nullptr);
  CHECK_THROWS_WITH(load_in_cluster(dir.path / "sa"), Catch::Contains("KUBERNETES_SERVICE_HOST"));
}

TEST_CASE("Default resolution: flag, then KUBECONFIG, then in-cluster, then ~/.kube/config", "[config]") {
  TempDir dir;
  auto flag = dir.write("flag", kTwoContexts);
  auto env_file = dir.write("env", std::string(kTwoContexts).replace(std::string(kTwoContexts).find("current-context: admin"), 22, "current-context: operator"));
  dir.write("certs/client.crt", "CERT");
  dir.write("certs/client.key", "KEY");
  ScopedEnv kubeconfig("KUBECONFIG", (dir.path.string() + "/absent:" + env_file.string()).c_str());
  CHECK(load_default(flag.string()).token == "admin-token");
  CHECK(load_default().source.find("context operator") != std::string::npos);
  {
    ScopedEnv none("KUBECONFIG", (dir.path / "absent").c_str());
    CHECK_THROWS_WITH(load_default(), Catch::Contains("none of its files exists"));
  }
  ScopedEnv unset("KUBECONFIG", nullptr);
  ScopedEnv host("KUBERNETES_SERVICE_HOST", nullptr);
  ScopedEnv home("HOME", dir.path.c_str());
  CHECK_THROWS_WITH(load_default(), Catch::Contains("no Kubernetes configuration found"));
  dir.write(".kube/config", kTwoContexts);
  CHECK(load_default().token == "admin-token");
}

// A kubeconfig is often handed over by someone else: every file it names, and the
// kubeconfig itself, is read with a bound, and hostile YAML gets an error, not a hang.
TEST_CASE("kubeconfig: files are read with a 4 MiB bound, /dev/zero included", "[config]") {
  TempDir dir;
  const std::string limit = "is larger than 4194304 bytes (4 MiB); refusing to read it";
  const auto started = std::chrono::steady_clock::now();
  CHECK_THROWS_WITH(load_kubeconfig(dir.write("ca-zero", R"(current-context: c
contexts: [{name: c, context: {cluster: x}}]
clusters: [{name: x, cluster: {server: "https://h", certificate-authority: /dev/zero}}]
)")), Catch::Contains("certificate-authority /dev/zero " + limit));
  CHECK_THROWS_WITH(load_kubeconfig(dir.write("key-zero", R"(current-context: c
contexts: [{name: c, context: {cluster: x, user: u}}]
clusters: [{name: x, cluster: {server: "https://h"}}]
users: [{name: u, user: {client-certificate-data: Q0VSVA==, client-key: /dev/zero}}]
)")), Catch::Contains("client-key /dev/zero " + limit));
  CHECK_THROWS_WITH(load_kubeconfig("/dev/zero"), Catch::Contains("kubeconfig /dev/zero " + limit));
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(2));

  // A token file that is /dev/zero: the bearer token cannot be had, and says why.
  ClusterConfig c = load_kubeconfig(dir.write("token-zero", R"(current-context: c
contexts: [{name: c, context: {cluster: x, user: u}}]
clusters: [{name: x, cluster: {server: "https://h"}}]
users: [{name: u, user: {tokenFile: /dev/zero}}]
)"));
  BearerToken token(c);
  CHECK_THROWS_WITH(token.get(), Catch::Contains("token file /dev/zero " + limit));
}

TEST_CASE("kubeconfig: hostile YAML is refused with the file's name", "[config]") {
  TempDir dir;
  CHECK_THROWS_WITH(load_kubeconfig(dir.write("comma", ",")), Catch::Contains("comma: invalid YAML"));
  CHECK_THROWS_WITH(load_kubeconfig(dir.write("self", "clusters: &a [*a]\n")),
                    Catch::Contains("an alias refers to the node that contains it"));
  CHECK_THROWS_WITH(load_kubeconfig(dir.write("type", R"(current-context: c
contexts: [{name: c, context: {cluster: x}}]
clusters: [{name: x, cluster: {server: [https://h]}}]
)")), Catch::Contains("cluster \"x\": server must be a string, got a list"));
  CHECK_THROWS_WITH(load_kubeconfig(dir.write("number", R"(current-context: c
contexts: [{name: c, context: {cluster: x, namespace: 123}}]
clusters: [{name: x, cluster: {server: "https://h"}}]
)")), Catch::Contains("namespace must be a string, got 123 (quote it: \"123\")"));
}

TEST_CASE("In-cluster files are bounded too", "[config]") {
  TempDir dir;
  dir.write("sa/token", "t\n");
  fs::create_symlink("/dev/zero", dir.path / "sa" / "ca.crt");
  ScopedEnv host("KUBERNETES_SERVICE_HOST", "10.96.0.1");
  ScopedEnv port("KUBERNETES_SERVICE_PORT", "443");
  CHECK_THROWS_WITH(load_in_cluster(dir.path / "sa"), Catch::Contains("ca.crt is larger than 4194304 bytes"));
}
