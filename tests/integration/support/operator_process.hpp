// Runs the clusterpolicy-operator binary as a child process for end-to-end
// tests, under the RBAC identity the chart ships, with its logs in a file.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <sys/types.h>

#include "support/test_cluster.hpp"

namespace cpo::testing {

// A free TCP port on 127.0.0.1 (bound once to find it, then released).
unsigned short free_port();

// Gives system:serviceaccount:<ns>:<name> exactly the chart's permissions:
// the rules of charts/clusterpolicy-operator/files/{clusterrole,role}-rules.yaml.
void grant_chart_rbac(const TestCluster& cluster, const std::string& ns, const std::string& sa_ns,
                      const std::string& sa_name);

// Starts a child with stdout and stderr in `log`; throws when it cannot.
pid_t spawn_logged(std::vector<std::string> args, const std::filesystem::path& log);
// SIGTERM, then SIGKILL after 30 s; the exit status, or -1 when killed or none.
int stop_child(pid_t pid);

// The harness's simulated device plugin + GPU Feature Discovery (tests/gpusim),
// writing what each node with a Ready device-plugin pod in `ns` shows, `delay`
// after the pod became Ready on its config.
class GpuSimProcess {
 public:
  GpuSimProcess(const TestCluster& cluster, const std::string& ns, const std::string& delay = "1s");
  ~GpuSimProcess();
  GpuSimProcess(const GpuSimProcess&) = delete;
  GpuSimProcess& operator=(const GpuSimProcess&) = delete;
  std::string log_tail(std::size_t bytes = 4000) const;

 private:
  pid_t pid_ = -1;
  std::filesystem::path log_;
};

class OperatorProcess {
 public:
  // Starts `clusterpolicy-operator run` with the given extra flags.
  OperatorProcess(const TestCluster& cluster, const std::filesystem::path& kubeconfig, const std::string& ns,
                  const std::vector<std::string>& extra_args = {});
  ~OperatorProcess();
  OperatorProcess(const OperatorProcess&) = delete;
  OperatorProcess& operator=(const OperatorProcess&) = delete;

  unsigned short health_port() const { return health_port_; }
  unsigned short metrics_port() const { return metrics_port_; }
  const std::filesystem::path& log_file() const { return log_; }
  std::string log_tail(std::size_t bytes = 4000) const;

  // SIGTERM, then waits; returns the exit status (or -1 when killed).
  int stop();
  // SIGKILL, as a node failure or the OOM killer ends it: no shutdown of any kind.
  void kill_now();
  bool running() const;
  pid_t pid() const { return pid_; }

  // GET on the health or metrics port; empty string on failure.
  std::string get(unsigned short port, const std::string& path, int* status = nullptr) const;
  // Sum of rest_client_requests_total for the given methods.
  double requests(const std::vector<std::string>& methods) const;

 private:
  pid_t pid_ = -1;
  unsigned short health_port_ = 0;
  unsigned short metrics_port_ = 0;
  std::filesystem::path log_;
};

}  // namespace cpo::testing
