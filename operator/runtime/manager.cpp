#include "runtime/manager.hpp"

#include <condition_variable>
#include <csignal>
#include <cstdlib>
#include <malloc.h>
#include <mutex>
#include <thread>
#include <unistd.h>

#include <spdlog/spdlog.h>

namespace cpo::runtime {

Manager::Manager(kube::Client& client, ManagerOptions options, Metrics& metrics)
    : client_(client),
      options_(std::move(options)),
      metrics_(metrics),
      probes_(metrics) {
  probes_.add_health_check("ping", [] { return std::nullopt; });
  probes_.add_ready_check("manager", [this] { return readiness(); });
  if (options_.leader_elect) {
    leader_gauge_ = &metrics.leader_election_master_status.Add({{"name", options_.lease.lease_name}});
    // The elector talks through a client of its own with a short request timeout,
    // so that an attempt to acquire does not hang on a stalled connection; while
    // leading, the elector further limits each request to its renew deadline.
    kube::ClientOptions lease_client_options;
    lease_client_options.request_timeout = std::chrono::seconds(4);
    lease_client_ = std::make_unique<kube::Client>(client_.config(), lease_client_options);
    elector_ = std::make_unique<LeaderElector>(*lease_client_, options_.lease, leader_callbacks());
  } else {
    leading_ = true;
  }
}

LeaderCallbacks Manager::leader_callbacks() {
  LeaderCallbacks callbacks;
  callbacks.on_started_leading = [this] {
    spdlog::info("became the leader (lease {}/{})", options_.lease.lease_namespace, options_.lease.lease_name);
    leader_gauge_->Set(1);
    std::lock_guard lock(mutex_);
    leading_ = true;
    cv_.notify_all();
  };
  callbacks.on_stopped_leading = [this] {
    leader_gauge_->Set(0);
    std::lock_guard lock(mutex_);
    if (leading_) lost_ = true;
    cv_.notify_all();
  };
  callbacks.on_new_leader = [this](const std::string& identity) {
    if (identity != options_.lease.identity) spdlog::info("the leader is {}", identity.empty() ? "(none)" : identity);
  };
  return callbacks;
}

// Members go in reverse order of declaration (see the ORDER REQUIREMENT in
// manager.hpp): probes, then informers (each joins its thread), then controllers.
Manager::~Manager() = default;

namespace {
bool same_watch(const Informer& informer, const kube::Resource& resource, const InformerOptions& o) {
  const auto& r = informer.resource();
  const auto& p = informer.options();
  const bool same_shape = o.transform ? (!o.transform_name.empty() && o.transform_name == p.transform_name)
                                      : !p.transform;
  return r.group == resource.group && r.version == resource.version && r.plural == resource.plural &&
         p.ns == o.ns && p.label_selector == o.label_selector && p.field_selector == o.field_selector &&
         p.metadata_only == o.metadata_only && p.keep_managed_fields == o.keep_managed_fields && same_shape &&
         p.resync == o.resync &&
         p.min_watch_timeout == o.min_watch_timeout && p.max_watch_timeout == o.max_watch_timeout &&
         p.page_size == o.page_size && p.fields == o.fields;
}
}  // namespace

Informer& Manager::add_informer(const kube::Resource& resource, InformerOptions options) {
  for (auto& informer : informers_) {
    if (same_watch(informer, resource, options)) return informer;
  }
  return informers_.emplace_back(client_, resource, std::move(options));
}

Controller& Manager::add_controller(const std::string& name, Reconciler reconciler, int workers) {
  return controllers_.emplace_back(name, std::move(reconciler), workers, metrics_);
}

bool Manager::is_leader() const { return !elector_ || elector_->is_leader(); }

std::optional<std::string> Manager::readiness() const {
  for (const auto& informer : informers_) {
    if (!informer.has_synced()) return "the cache of " + informer.resource().plural + " has not synced yet";
  }
  if (elector_ && !elector_->is_leader() && elector_->leader_identity().empty()) {
    return "no leader observed yet for lease " + options_.lease.lease_namespace + "/" + options_.lease.lease_name;
  }
  return std::nullopt;
}

void Manager::start_probes() {
  const bool secure = options_.metrics_secure && !options_.metrics_address.disabled;
  if (!secure) {
    probes_.start(options_.health_address, options_.metrics_address);
    if (!options_.health_address.disabled) spdlog::info("serving /healthz and /readyz on port {}", probes_.health_port());
    if (!options_.metrics_address.disabled) {
      spdlog::info("serving /metrics over plain HTTP on port {} (no authentication)", probes_.metrics_port());
    }
    return;
  }
  const std::string& dir = options_.metrics_cert_dir;
  SecureMetrics metrics{dir.empty() ? self_signed_identity("clusterpolicy-operator") : load_tls_identity(dir), nullptr};
  authorizer_ = std::make_unique<MetricsAuthorizer>(client_);
  metrics.authorizer = authorizer_.get();
  probes_.start(options_.health_address, options_.metrics_address, &metrics);
  if (!dir.empty()) {
    cert_watcher_ = std::make_unique<CertificateWatcher>(
        dir, metrics.identity, options_.metrics_cert_reload_interval,
        [this](const TlsIdentity& identity) { probes_.use_tls_identity(identity); });
  }
  if (!options_.health_address.disabled) spdlog::info("serving /healthz and /readyz on port {}", probes_.health_port());
  const std::string certificate =
      dir.empty() ? std::string("a self-signed certificate")
                  : "the certificate of " + dir + " (" + describe_certificate(metrics.identity.certificate_pem) +
                        "; read again every " + std::to_string(options_.metrics_cert_reload_interval.count()) + " ms)";
  spdlog::info("serving /metrics over HTTPS on port {} with {}; a bearer token allowed to get /metrics is required "
               "(TokenReview, SubjectAccessReview)",
               probes_.metrics_port(), certificate);
}

int Manager::run(std::stop_token stop) {
  start_probes();

  for (auto& informer : informers_) informer.start();

  std::stop_callback wake_on_stop(stop, [this] {
    std::lock_guard lock(mutex_);
    cv_.notify_all();
  });

  std::jthread elector_thread;
  if (elector_) {
    spdlog::info("waiting for lease {}/{} as {}", options_.lease.lease_namespace, options_.lease.lease_name,
                 options_.lease.identity);
    // The thread's own stop token: leaving run() by any path stops and joins it.
    elector_thread = std::jthread([this](std::stop_token token) {
      if (elector_->run(token) == LeaderElector::Outcome::Lost) {
        std::lock_guard lock(mutex_);
        lost_ = true;
        cv_.notify_all();
      }
    });
  }
  auto lease_lost_now = [this] {
    std::lock_guard lock(mutex_);
    return lost_;
  };

  // Wait for the lease (or a stop).
  {
    std::unique_lock lock(mutex_);
    cv_.wait(lock, [&] { return leading_ || lost_ || stop.stop_requested(); });
  }

  int exit_code = 0;
  bool controllers_started = false;
  if (!stop.stop_requested() && !lease_lost_now()) {
    // Waits in short slices: a stop or a lost lease ends the wait at once.
    constexpr auto kSlice = std::chrono::milliseconds(100);
    const auto deadline = std::chrono::steady_clock::now() + options_.cache_sync_timeout;
    bool synced = true;
    for (auto& informer : informers_) {
      while (!informer.wait_for_sync(kSlice)) {
        if (stop.stop_requested() || lease_lost_now()) {
          synced = false;
          break;
        }
        if (std::chrono::steady_clock::now() >= deadline) {
          auto stats = informer.stats();
          spdlog::error("the cache of {} did not sync within {}s: {}", informer.resource().plural,
                        options_.cache_sync_timeout.count(),
                        stats.last_error.empty() ? "no answer" : stats.last_error);
          exit_code = 1;
          synced = false;
          break;
        }
      }
      if (!synced) break;
    }
    // The lease may have been lost while the caches synced: no controller may
    // start then.
    if (synced && !stop.stop_requested() && !lease_lost_now()) {
      // The initial lists are decoded and their pages freed: hand that heap back
      // to the system (glibc keeps it otherwise), so the resident size is what
      // the caches hold, not the peak of decoding a fleet's worth of Nodes.
      malloc_trim(0);
      for (auto& controller : controllers_) {
        controller.start();
        spdlog::info("started controller {}", controller.name());
      }
      controllers_started = true;
      std::unique_lock lock(mutex_);
      while (!lost_ && !stop.stop_requested()) {
        cv_.wait_for(lock, std::chrono::seconds(1));
        for (auto& controller : controllers_) controller.update_gauges();
      }
    }
  }

  if (lease_lost_now()) {
    // Another replica may already lead: not one more write from this process.
    // Reconciles in flight cannot be interrupted safely, so exit now, as
    // controller-runtime does.
    spdlog::critical("leader election lost: exiting");
    spdlog::shutdown();
    std::_Exit(1);
  }
  spdlog::info("shutting down");
  if (controllers_started) {
    for (auto& controller : controllers_) {
      if (!controller.stop(options_.graceful_shutdown)) {
        spdlog::warn("controller {}: reconciles still running at the deadline", controller.name());
      }
    }
  }
  for (auto& informer : informers_) informer.request_stop();  // all at once, then wait
  for (auto& informer : informers_) informer.stop();
  if (elector_thread.joinable()) {
    elector_thread.request_stop();
    elector_thread.join();
    if (elector_->release()) spdlog::info("released the lease");
  }
  if (leader_gauge_) leader_gauge_->Set(0);
  cert_watcher_.reset();
  probes_.stop();
  return exit_code;
}

std::stop_source& install_signal_handlers() {
  static std::stop_source source;
  static std::once_flag once;
  std::call_once(once, [] {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    std::thread([set] {
      int received = 0;
      for (int count = 0;; ++count) {
        if (sigwait(&set, &received) != 0) continue;
        if (count == 0) {
          spdlog::info("received signal {}: stopping (a second signal exits at once)", received);
          source.request_stop();
        } else {
          _exit(1);
        }
      }
    }).detach();
  });
  return source;
}

}  // namespace cpo::runtime
