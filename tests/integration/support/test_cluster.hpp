// Access to the control plane the CTest fixture started (tests/cluster/cluster up).
// Tests find it through the environment variable CPO_TEST_CLUSTER (its folder).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "kube/client.hpp"
#include "kube/config.hpp"
#include "kube/http.hpp"

namespace cpo::testing {

struct CommandResult {
  int exit_code = 0;
  std::string output;  // stdout and stderr together
};

class TestCluster {
 public:
  // The running cluster; fails the test (throws) when CPO_TEST_CLUSTER is unset.
  static const TestCluster& get();

  const std::filesystem::path& dir() const { return dir_; }
  std::filesystem::path admin_kubeconfig() const { return dir_ / "kubeconfig"; }
  // The kubeconfig of the static-token identity system:serviceaccount:NS:NAME.
  std::filesystem::path identity_kubeconfig(const std::string& ns, const std::string& name) const;

  kube::ClusterConfig admin_config() const;
  // The cluster harness's own script (tests/cluster/cluster).
  std::filesystem::path script() const;

  // Runs `kubectl --kubeconfig <admin> ARGS`.
  CommandResult kubectl(const std::string& args) const;
  // Runs `tests/cluster/cluster VERB <dir> ARGS`.
  CommandResult harness(const std::string& verb, const std::string& args = {}) const;

 private:
  std::filesystem::path dir_;
};

// GET http://127.0.0.1:PORT/PATH (probe and metrics endpoints). Throws kube::TransportError.
kube::HttpResponse local_http_get(unsigned short port, const std::string& path);

// A kubeconfig at `path` (mode 0600) for `user` with a bearer token, trusting `ca`.
void write_token_kubeconfig(const std::filesystem::path& path, const std::string& server,
                            const std::filesystem::path& ca, const std::string& user, const std::string& token);

// A bound token of an existing ServiceAccount (`kubectl create token`, 1 h).
std::string bound_token(const TestCluster& cluster, const std::string& ns, const std::string& account);

// Runs a shell command, capturing its output.
CommandResult run_command(const std::string& command);

// Quotes a word for /bin/sh.
std::string shell_quote(const std::string& word);

// A namespace of its own for one test, deleted at the end of the test.
class ScopedNamespace {
 public:
  ScopedNamespace(kube::Client& client, const std::string& prefix);
  ~ScopedNamespace();
  const std::string& name() const { return name_; }

 private:
  kube::Client& client_;
  std::string name_;
};

// Polls `condition` every 50 ms until it holds or `timeout` passes.
bool eventually(const std::function<bool()>& condition,
                std::chrono::milliseconds timeout = std::chrono::seconds(30));

}  // namespace cpo::testing
