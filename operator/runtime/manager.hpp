// The manager runs a controller process: probes and metrics server, informers,
// leader election and controllers, started and stopped in order.
//
// Start: serve /healthz, /readyz and /metrics; start every informer; when leader
// election is on, wait for the lease; wait for the caches to sync; start the
// controllers. Stop (a signal, or the caller): drain the controllers within the
// grace period, stop the informers, release the lease so a successor takes over
// at once, stop serving. Losing the lease ends the process at once with status 1
// (std::_Exit, as controller-runtime exits): reconciles in flight cannot be
// interrupted safely, and two leaders never act at once.
#pragma once

#include <chrono>
#include <condition_variable>
#include <list>
#include <mutex>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>

#include "kube/client.hpp"
#include "runtime/controller.hpp"
#include "runtime/informer.hpp"
#include "runtime/leader_election.hpp"
#include "runtime/metrics.hpp"
#include "runtime/metrics_auth.hpp"
#include "runtime/probe_server.hpp"
#include "runtime/tls_rotation.hpp"

namespace cpo::runtime {

struct ManagerOptions {
  bool leader_elect = false;
  LeaderElectionConfig lease;  // namespace, name, identity, durations
  BindAddress health_address;
  BindAddress metrics_address;
  // /metrics over HTTPS to authorized bearer tokens only (probe_server.hpp), with
  // the certificate of metrics_cert_dir (tls.crt, tls.key) or a self-signed one.
  bool metrics_secure = false;
  std::string metrics_cert_dir;
  // How often metrics_cert_dir is read again for a rotated pair (tls_rotation.hpp).
  std::chrono::milliseconds metrics_cert_reload_interval{std::chrono::seconds(10)};
  std::chrono::seconds graceful_shutdown{30};
  std::chrono::seconds cache_sync_timeout{120};
};

class Manager {
 public:
  Manager(kube::Client& client, ManagerOptions options, Metrics& metrics);
  ~Manager();

  // Registration happens before run(); the manager owns what it returns. An
  // informer is shared: registering the same resource with the same namespace,
  // selectors, shape (metadata only, named transform) and timings returns the
  // informer already registered, so two controllers watching one kind cost one
  // watch and one cache. Each adds its own handlers.
  Informer& add_informer(const kube::Resource& resource, InformerOptions options = {});
  Controller& add_controller(const std::string& name, Reconciler reconciler, int workers = 1);
  ProbeServer& probes() { return probes_; }

  // Runs until `stop` is requested (returns 0) or the caches fail to sync (returns
  // 1). Does not return when the lease is lost: the process exits with status 1.
  int run(std::stop_token stop);

  bool is_leader() const;

 private:
  std::optional<std::string> readiness() const;
  void start_probes();
  LeaderCallbacks leader_callbacks();

  // ORDER REQUIREMENT: members are destroyed in reverse order, and whatever runs
  // on a thread must go before what it uses. Informer threads call handlers that
  // feed the controllers' work queues, so informers_ is declared after
  // controllers_ (stopped and destroyed first); the probe server's readiness check
  // reads the informers, so probes_ comes after informers_; the certificate
  // watcher hands probes_ new pairs, so it comes after probes_.
  kube::Client& client_;
  ManagerOptions options_;
  Metrics& metrics_;
  std::list<Controller> controllers_;
  std::list<Informer> informers_;
  std::unique_ptr<MetricsAuthorizer> authorizer_;  // used by probes_' threads
  ProbeServer probes_;
  std::unique_ptr<CertificateWatcher> cert_watcher_;  // installs into probes_
  std::unique_ptr<kube::Client> lease_client_;
  std::unique_ptr<LeaderElector> elector_;
  // leader_election_master_status{name}: only exported when leader election is on.
  prometheus::Gauge* leader_gauge_ = nullptr;

  // Leadership as run() waits for it.
  std::mutex mutex_;
  std::condition_variable cv_;
  bool leading_ = false;
  bool lost_ = false;
};

// Blocks SIGINT and SIGTERM in the calling thread (call it first in main, before
// any thread starts) and returns a stop source requested by the first of them.
// A second signal exits the process at once with status 1.
std::stop_source& install_signal_handlers();

}  // namespace cpo::runtime
