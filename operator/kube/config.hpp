// How to reach and authenticate to an API server: kubeconfig files and the
// in-cluster service-account mount.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace cpo::kube {

// The configuration is missing or wrong; the message says which file and field.
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct ClusterConfig {
  std::string server;       // as configured, e.g. "https://127.0.0.1:6443"
  bool use_tls = true;      // https (http only when the URL says so)
  std::string host;         // "127.0.0.1"
  std::string port;         // "6443"
  std::string path_prefix;  // a server URL may carry a path ("/k8s/clusters/c-1"); no trailing '/'

  std::string ca_pem;                     // trusted CA certificates; empty = system store
  bool insecure_skip_tls_verify = false;  // never the default
  std::string tls_server_name;            // overrides the name checked against the certificate

  std::string client_cert_pem;
  std::string client_key_pem;

  std::string token;       // static bearer token
  std::string token_file;  // re-read periodically (bound service-account tokens rotate)

  std::string ns;      // the namespace of the context, or of the pod in-cluster
  std::string source;  // where this came from, for messages ("kubeconfig /x (context y)")
};

// Reads a kubeconfig file. `context` empty = the file's current-context. Paths
// inside the file are relative to the file's folder. Every file is read through
// util::read_file, so each is bounded (4 MiB); the YAML through util::read_yaml.
ClusterConfig load_kubeconfig(const std::filesystem::path& path, const std::string& context = {});

// Where a kubeconfig text came from: `where` starts every message ("kubeconfig /x"),
// files it names are resolved against `base_dir` and read with `read_file`.
struct KubeconfigSource {
  std::string where;
  std::filesystem::path base_dir;
  std::function<std::string(const std::filesystem::path&, const std::string& what)> read_file;
};

// The parsing half of load_kubeconfig. Throws ConfigError only.
ClusterConfig parse_kubeconfig(std::string_view text, const KubeconfigSource& source,
                               const std::string& context = {});

// Reads the in-cluster configuration: KUBERNETES_SERVICE_HOST/PORT and the
// service-account token, CA and namespace under `sa_dir`.
ClusterConfig load_in_cluster(
    const std::filesystem::path& sa_dir = "/var/run/secrets/kubernetes.io/serviceaccount");

// Resolves the configuration as kubectl-compatible tools do: the explicit path
// (a --kubeconfig flag), else $KUBECONFIG (the first file of the list that exists),
// else in-cluster when KUBERNETES_SERVICE_HOST is set, else ~/.kube/config.
ClusterConfig load_default(const std::string& explicit_path = {}, const std::string& context = {});

// Splits "https://host:port/prefix" into the config's server fields. Throws ConfigError.
void set_server(ClusterConfig& config, const std::string& server);

// The bearer token to send, re-reading token_file when it is older than `refresh`.
class BearerToken {
 public:
  explicit BearerToken(const ClusterConfig& config,
                       std::chrono::seconds refresh = std::chrono::seconds(60));
  // Empty when the config has no token. Keeps the last good token when a re-read fails.
  std::string get();

 private:
  std::mutex mutex_;
  std::string token_;
  std::string file_;
  std::chrono::seconds refresh_;
  std::chrono::steady_clock::time_point read_at_{};
};

// Decodes standard base64 (whitespace ignored). Throws ConfigError naming `what`.
std::string base64_decode(const std::string& text, const std::string& what);

}  // namespace cpo::kube
