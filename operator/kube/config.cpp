#include "kube/config.hpp"

#include <cstdlib>
#include <sstream>
#include <vector>

#include <nlohmann/json.hpp>
#include <openssl/evp.h>

#include "util/file_read.hpp"
#include "util/yaml_read.hpp"

namespace cpo::kube {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

std::string read_file(const fs::path& path, const std::string& what) {
  try {
    return util::read_file(path, what);
  } catch (const util::FileReadError& e) {
    throw ConfigError(e.what());
  }
}

std::string trim(std::string text) {
  auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return {};
  auto last = text.find_last_not_of(" \t\r\n");
  return text.substr(first, last - first + 1);
}

// Finds the entry named `name` in a kubeconfig list such as `clusters`.
const json& find_named(const json& root, const char* list_key, const std::string& name, const std::string& field,
                       const std::string& where) {
  auto list = root.find(list_key);
  if (list != root.end() && list->is_array()) {
    for (const json& entry : *list) {
      auto entry_name = entry.is_object() ? entry.find("name") : entry.end();
      if (entry.is_object() && entry_name != entry.end() && *entry_name == name) {
        auto value = entry.find(field);
        if (value == entry.end() || !value->is_object()) {
          throw ConfigError(where + ": entry \"" + name + "\" has no \"" + field + "\" map");
        }
        return *value;
      }
    }
  }
  throw ConfigError(where + ": no " + field + " named \"" + name + "\"");
}

// A string field; absent or null is empty. `owner` names the map for messages.
std::string scalar(const json& map, const char* key, const std::string& owner) {
  auto it = map.find(key);
  if (it == map.end() || it->is_null()) return {};
  if (!it->is_string()) {
    const std::string shown = it->is_primitive() ? it->dump() : it->is_array() ? "a list" : "a map";
    throw ConfigError(owner + ": " + key + " must be a string, got " + shown +
                      (it->is_primitive() ? " (quote it: \"" + shown + "\")" : ""));
  }
  return it->get<std::string>();
}

bool boolean(const json& map, const char* key, const std::string& owner) {
  auto it = map.find(key);
  if (it == map.end() || it->is_null()) return false;
  if (!it->is_boolean()) throw ConfigError(owner + ": " + key + " must be true or false");
  return it->get<bool>();
}

fs::path resolve(const fs::path& base_dir, const std::string& path) {
  fs::path p(path);
  return p.is_absolute() ? p : base_dir / p;
}

// Reads `<key>-data` (base64) or `<key>` (a file path).
std::string data_or_file(const json& map, const std::string& key, const KubeconfigSource& source,
                         const std::string& owner) {
  std::string data = scalar(map, (key + "-data").c_str(), owner);
  if (!data.empty()) return base64_decode(data, source.where + " " + key + "-data");
  std::string file = scalar(map, key.c_str(), owner);
  if (!file.empty()) return source.read_file(resolve(source.base_dir, file), source.where + " " + key);
  return {};
}

void read_user(const json& user, const std::string& user_name, const KubeconfigSource& source,
               ClusterConfig& config) {
  const std::string owner = source.where + ": user \"" + user_name + "\"";
  config.client_cert_pem = data_or_file(user, "client-certificate", source, owner);
  config.client_key_pem = data_or_file(user, "client-key", source, owner);
  if (config.client_cert_pem.empty() != config.client_key_pem.empty()) {
    throw ConfigError(owner + " needs both a client certificate and a client key");
  }
  config.token = scalar(user, "token", owner);
  std::string token_file = scalar(user, "tokenFile", owner);
  if (!token_file.empty()) config.token_file = resolve(source.base_dir, token_file).string();
  auto plugin = [&](const char* key) { return user.contains(key) && !user[key].is_null(); };
  if ((plugin("exec") || plugin("auth-provider")) && config.token.empty() && config.token_file.empty() &&
      config.client_cert_pem.empty()) {
    throw ConfigError(owner + " uses an exec or auth-provider plugin, which this client does not run; "
                      "use a token, tokenFile or client certificate");
  }
}

json parse_yaml(std::string_view text, const std::string& where) {
  try {
    std::vector<json> documents = util::read_yaml(text);
    if (documents.size() > 1) throw ConfigError(where + ": holds more than one YAML document");
    return documents.empty() ? json(nullptr) : std::move(documents.front());
  } catch (const util::YamlError& e) {
    throw ConfigError(where + ": " + e.what());
  }
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
  KubeconfigSource source;
  source.where = where;
  source.base_dir = fs::absolute(path).parent_path();
  source.read_file = [](const fs::path& file, const std::string& what) { return read_file(file, what); };
  return parse_kubeconfig(read_file(path, "kubeconfig"), source, context);
}

ClusterConfig parse_kubeconfig(std::string_view text, const KubeconfigSource& source, const std::string& context) {
  const std::string& where = source.where;
  const json root = parse_yaml(text, where);
  if (!root.is_object()) throw ConfigError(where + ": not a kubeconfig (expected a YAML mapping)");

  std::string context_name = context.empty() ? scalar(root, "current-context", where) : context;
  if (context_name.empty()) throw ConfigError(where + ": no current-context set and no context given");
  const json& ctx = find_named(root, "contexts", context_name, "context", where);
  const std::string ctx_owner = where + ": context \"" + context_name + "\"";
  std::string cluster_name = scalar(ctx, "cluster", ctx_owner);
  std::string user_name = scalar(ctx, "user", ctx_owner);
  if (cluster_name.empty()) throw ConfigError(ctx_owner + " names no cluster");
  const json& cluster = find_named(root, "clusters", cluster_name, "cluster", where);
  const std::string cluster_owner = where + ": cluster \"" + cluster_name + "\"";

  ClusterConfig config;
  config.source = where + " (context " + context_name + ")";
  std::string server = scalar(cluster, "server", cluster_owner);
  if (server.empty()) throw ConfigError(cluster_owner + " has no server");
  set_server(config, server);
  config.ca_pem = data_or_file(cluster, "certificate-authority", source, cluster_owner);
  config.insecure_skip_tls_verify = boolean(cluster, "insecure-skip-tls-verify", cluster_owner);
  config.tls_server_name = scalar(cluster, "tls-server-name", cluster_owner);
  config.ns = scalar(ctx, "namespace", ctx_owner);
  if (!user_name.empty()) read_user(find_named(root, "users", user_name, "user", where), user_name, source, config);
  return config;
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
