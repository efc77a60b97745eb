#include "support/test_cluster.hpp"

#include <array>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <stdexcept>
#include <sys/wait.h>
#include <thread>

namespace cpo::testing {

namespace fs = std::filesystem;

const TestCluster& TestCluster::get() {
  static const TestCluster cluster = [] {
    const char* dir = std::getenv("CPO_TEST_CLUSTER");
    if (!dir || !*dir) {
      throw std::runtime_error(
          "CPO_TEST_CLUSTER is not set: run integration tests through ctest, which starts the "
          "control plane, or start one with tests/cluster/cluster up DIR and export CPO_TEST_CLUSTER=DIR");
    }
    TestCluster c;
    c.dir_ = dir;
    if (!fs::exists(c.admin_kubeconfig())) {
      throw std::runtime_error(c.admin_kubeconfig().string() + " is missing: is the cluster up?");
    }
    return c;
  }();
  return cluster;
}

fs::path TestCluster::identity_kubeconfig(const std::string& ns, const std::string& name) const {
  return dir_ / ("kubeconfig-" + ns + "-" + name);
}

kube::ClusterConfig TestCluster::admin_config() const { return kube::load_kubeconfig(admin_kubeconfig()); }

fs::path TestCluster::script() const { return fs::path(CPO_SOURCE_DIR) / "tests" / "cluster" / "cluster"; }

void write_token_kubeconfig(const fs::path& path, const std::string& server, const fs::path& ca,
                            const std::string& user, const std::string& token) {
  std::ofstream(path) << "apiVersion: v1\nkind: Config\nclusters:\n- name: local\n  cluster:\n    server: " << server
                      << "\n    certificate-authority: " << ca.string() << "\nusers:\n- name: " << user
                      << "\n  user:\n    token: " << token << "\ncontexts:\n- name: local\n  context:\n"
                      << "    cluster: local\n    user: " << user << "\ncurrent-context: local\n";
  fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write);
}

std::string bound_token(const TestCluster& cluster, const std::string& ns, const std::string& account) {
  auto result = cluster.kubectl("-n " + ns + " create token " + account + " --duration=1h");
  if (result.exit_code != 0) throw std::runtime_error("kubectl create token " + account + ": " + result.output);
  std::string token = result.output;
  token.erase(token.find_last_not_of(" \r\n") + 1);
  token.erase(0, token.find_last_of('\n') + 1);  // a warning may precede it
  return token;
}

std::string shell_quote(const std::string& word) {
  std::string out = "'";
  for (char c : word) {
    if (c == '\'') out += "'\\''"; else out += c;
  }
  return out + "'";
}

CommandResult run_command(const std::string& command) {
  CommandResult result;
  // Grouped so that a command ending in a here-document still has its stderr captured.
  std::string full = "{ " + command + "\n} 2>&1";
  FILE* pipe = popen(full.c_str(), "r");
  if (!pipe) throw std::runtime_error("cannot run: " + command);
  std::array<char, 4096> buffer{};
  std::size_t n = 0;
  while ((n = fread(buffer.data(), 1, buffer.size(), pipe)) > 0) result.output.append(buffer.data(), n);
  int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

CommandResult TestCluster::kubectl(const std::string& args) const {
  return run_command("kubectl --kubeconfig " + shell_quote(admin_kubeconfig().string()) + " " + args);
}

CommandResult TestCluster::harness(const std::string& verb, const std::string& args) const {
  return run_command(shell_quote(script().string()) + " " + verb + " " + shell_quote(dir_.string()) + " " + args);
}

ScopedNamespace::ScopedNamespace(kube::Client& client, const std::string& prefix) : client_(client) {
  std::random_device rd;
  name_ = prefix + "-" + std::to_string(rd() % 1000000);
  client_.create(kube::resources::namespaces, {{"metadata", {{"name", name_}}}});
}

ScopedNamespace::~ScopedNamespace() {
  try {
    client_.remove(kube::resources::namespaces, {"", name_, ""});
  } catch (...) {
    // Best effort: the cluster is thrown away after the run anyway.
  }
}

kube::HttpResponse local_http_get(unsigned short port, const std::string& path) {
  kube::ClusterConfig config;
  kube::set_server(config, "http://127.0.0.1:" + std::to_string(port));
  auto transport = kube::make_beast_transport(config);
  kube::HttpRequest request;
  request.method = "GET";
  request.target = path;
  request.timeout = std::chrono::seconds(5);
  return transport->send(request);
}

bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (condition()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

}  // namespace cpo::testing
