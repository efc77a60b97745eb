#include "kube/config.hpp"

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <vector>

#include <openssl/evp.h>
#include <yaml-cpp/yaml.h>

namespace cpo::kube {

namespace fs = std::filesystem;

namespace {

std::string read_file(const fs::path& path, const std::string& what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError("cannot read " + what + " " + path.string());
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string trim(std::string text) {
  auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return {};
  auto last = text.find_last_not_of(" \t\r\n");
  return text.substr(first, last - first + 1);
}

// Finds the entry named `name` in a kubeconfig list such as `clusters`.
YAML::Node find_named(const YAML::Node& list, const std::string& name, const std::string& field,
                      const std::string& where) {
  if (list && list.IsSequence()) {
    for (const auto& entry : list) {
      if (entry["name"] && entry["name"].as<std::string>() == name) {
        if (!entry[field] || !entry[field].IsMap()) {
          throw ConfigError(where + ": entry \"" + name + "\" has no \"" + field + "\" map");
        }
        return entry[field];
      }
    }
  }
  throw ConfigError(where + ": no " + field + " named \"" + name + "\"");
}

std::string scalar(const YAML::Node& map, const char* key) {
  const YAML::Node node = map[key];
  if (!node || node.IsNull()) return {};
  return node.as<std::string>();
}

fs::path resolve(const fs::path& base_dir, const std::string& path) {
  fs::path p(path);
  return p.is_absolute() ? p : base_dir / p;
}

// Reads `<key>-data` (base64) or `<key>` (a file path).
std::string data_or_file(const YAML::Node& map, const std::string& key, const fs::path& base_dir,
                         const std::string& where) {
  std::string data = scalar(map, (key + "-data").c_str());
  if (!data.empty()) return base64_decode(data, where + " " + key + "-data");
  std::string file = scalar(map, key.c_str());
  if (!file.empty()) return read_file(resolve(base_dir, file), where + " " + key);
  return {};
}

}  // namespace

std::string base64_decode(const std::string& text, const std::string& what) {
  std::string clean;
  clean.reserve(text.size());
  for (char c : text) {
    if (c != '\n' && c != '\r' && c != ' ' && c != '\t') clean.push_back(c);
  }
  if (clean.size() % 4 != 0) throw ConfigError(what + ": invalid base64 (length)");
  std::string out(clean.size() / 4 * 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(clean.data()),
                          static_cast<int>(clean.size()));
  if (n < 0) throw ConfigError(what + ": invalid base64");
  std::size_t padding = 0;
  if (!clean.empty() && clean.back() == '=') ++padding;
  if (clean.size() > 1 && clean[clean.size() - 2] == '=') ++padding;
  out.resize(static_cast<std::size_t>(n) - padding);
  return out;
}

void set_server(ClusterConfig& config, const std::string& server) {
  config.server = server;
  std::string rest;
  if (server.rfind("https://", 0) == 0) {
    config.use_tls = true;
    rest = server.substr(8);
  } else if (server.rfind("http://", 0) == 0) {
    config.use_tls = false;
    rest = server.substr(7);
  } else {
    throw ConfigError("server \"" + server + "\" must start with https:// or http://");
  }
  auto slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  config.path_prefix = slash == std::string::npos ? "" : rest.substr(slash);
  while (!config.path_prefix.empty() && config.path_prefix.back() == '/') config.path_prefix.pop_back();
  if (authority.empty()) throw ConfigError("server \"" + server + "\" has no host");
  if (authority.front() == '[') {  // [IPv6]:port
    auto close = authority.find(']');
    if (close == std::string::npos) throw ConfigError("server \"" + server + "\": unbalanced '['");
    config.host = authority.substr(1, close - 1);
    auto after = authority.substr(close + 1);
    config.port = after.size() > 1 && after[0] == ':' ? after.substr(1) : "";
  } else {
    auto colon = authority.rfind(':');
    config.host = authority.substr(0, colon);
    config.port = colon == std::string::npos ? "" : authority.substr(colon + 1);
  }
  if (config.port.empty()) config.port = config.use_tls ? "443" : "80";
  if (config.host.empty()) throw ConfigError("server \"" + server + "\" has no host");
}

ClusterConfig load_kubeconfig(const fs::path& path, const std::string& context) {
  const std::string where = "kubeconfig " + path.string();
  if (!fs::exists(path)) throw ConfigError(where + " does not exist");
  YAML::Node root;
  try {
    root = YAML::LoadFile(path.string());
  } catch (const YAML::Exception& e) {
    throw ConfigError(where + ": " + e.what());
  }
  if (!root.IsMap()) throw ConfigError(where + ": not a kubeconfig (expected a YAML mapping)");

  try {
    std::string context_name = context.empty() ? scalar(root, "current-context") : context;
    if (context_name.empty()) {
      throw ConfigError(where + ": no current-context set and no context given");
    }
    YAML::Node ctx = find_named(root["contexts"], context_name, "context", where);
    std::string cluster_name = scalar(ctx, "cluster");
    std::string user_name = scalar(ctx, "user");
    if (cluster_name.empty()) throw ConfigError(where + ": context \"" + context_name + "\" names no cluster");
    YAML::Node cluster = find_named(root["clusters"], cluster_name, "cluster", where);
    const fs::path base_dir = fs::absolute(path).parent_path();

    ClusterConfig config;
    config.source = where + " (context " + context_name + ")";
    std::string server = scalar(cluster, "server");
    if (server.empty()) throw ConfigError(where + ": cluster \"" + cluster_name + "\" has no server");
    set_server(config, server);
    config.ca_pem = data_or_file(cluster, "certificate-authority", base_dir, where);
    config.insecure_skip_tls_verify = cluster["insecure-skip-tls-verify"] &&
                                      cluster["insecure-skip-tls-verify"].as<bool>();
    config.tls_server_name = scalar(cluster, "tls-server-name");
    config.ns = scalar(ctx, "namespace");

    if (!user_name.empty()) {
      YAML::Node user = find_named(root["users"], user_name, "user", where);
      config.client_cert_pem = data_or_file(user, "client-certificate", base_dir, where);
      config.client_key_pem = data_or_file(user, "client-key", base_dir, where);
      if (config.client_cert_pem.empty() != config.client_key_pem.empty()) {
        throw ConfigError(where + ": user \"" + user_name +
                          "\" needs both a client certificate and a client key");
      }
      config.token = scalar(user, "token");
      std::string token_file = scalar(user, "tokenFile");
      if (!token_file.empty()) config.token_file = resolve(base_dir, token_file).string();
      if (user["exec"] || user["auth-provider"]) {
        if (config.token.empty() && config.token_file.empty() && config.client_cert_pem.empty()) {
          throw ConfigError(where + ": user \"" + user_name +
                            "\" uses an exec or auth-provider plugin, which this client does not run; "
                            "use a token, tokenFile or client certificate");
        }
      }
    }
    return config;
  } catch (const YAML::Exception& e) {
    throw ConfigError(where + ": " + e.what());
  }
}

ClusterConfig load_in_cluster(const fs::path& sa_dir) {
  const char* host = std::getenv("KUBERNETES_SERVICE_HOST");
  const char* port = std::getenv("KUBERNETES_SERVICE_PORT");
  if (!host || !*host || !port || !*port) {
    throw ConfigError("not running in a cluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set");
  }
  ClusterConfig config;
  std::string h = host;
  std::string authority = h.find(':') != std::string::npos ? "[" + h + "]" : h;  // IPv6
  set_server(config, "https://" + authority + ":" + port);
  config.source = "in-cluster service account (" + sa_dir.string() + ")";
  const fs::path token = sa_dir / "token";
  if (!fs::exists(token)) throw ConfigError("in-cluster: " + token.string() + " does not exist");
  config.token_file = token.string();
  config.ca_pem = read_file(sa_dir / "ca.crt", "in-cluster CA");
  if (fs::exists(sa_dir / "namespace")) config.ns = trim(read_file(sa_dir / "namespace", "in-cluster namespace"));
  return config;
}

ClusterConfig load_default(const std::string& explicit_path, const std::string& context) {
  if (!explicit_path.empty()) return load_kubeconfig(explicit_path, context);
  if (const char* env = std::getenv("KUBECONFIG"); env && *env) {
    std::stringstream list(env);
    std::string entry;
    while (std::getline(list, entry, ':')) {
      if (!entry.empty() && fs::exists(entry)) return load_kubeconfig(entry, context);
    }
    throw ConfigError(std::string("KUBECONFIG is set to \"") + env + "\" but none of its files exists");
  }
  if (const char* host = std::getenv("KUBERNETES_SERVICE_HOST"); host && *host) return load_in_cluster();
  if (const char* home = std::getenv("HOME"); home && *home) {
    fs::path path = fs::path(home) / ".kube" / "config";
    if (fs::exists(path)) return load_kubeconfig(path, context);
  }
  throw ConfigError(
      "no Kubernetes configuration found: pass --kubeconfig, set KUBECONFIG, run in a pod, "
      "or create ~/.kube/config");
}

BearerToken::BearerToken(const ClusterConfig& config, std::chrono::seconds refresh)
    : token_(config.token), file_(config.token_file), refresh_(refresh) {}

std::string BearerToken::get() {
  std::lock_guard lock(mutex_);
  if (file_.empty()) return token_;
  auto now = std::chrono::steady_clock::now();
  if (token_.empty() || now - read_at_ >= refresh_) {
    try {
      std::string fresh = trim(read_file(file_, "token file"));
      if (!fresh.empty()) token_ = std::move(fresh);
    } catch (const ConfigError&) {
      if (token_.empty()) throw;  // never had one: the caller must know
    }
    read_at_ = now;
  }
  return token_;
}

}  // namespace cpo::kube
