// `clusterpolicy-operator run`: the controller process.
#include <cstdlib>
#include <malloc.h>
#include <filesystem>
#include <iostream>

#include <spdlog/spdlog.h>

#include "cli/commands.hpp"
#include "cli/parser.hpp"
#include "clusterpolicy/controller.hpp"
#include "clusterpolicy/node_label_controller.hpp"
#include "kube/config.hpp"
#include "runtime/event_recorder.hpp"
#include "runtime/logging.hpp"
#include "runtime/manager.hpp"
#include "util/file_read.hpp"

namespace cpo::cli {

namespace {

constexpr const char* kInClusterNamespaceFile = "/var/run/secrets/kubernetes.io/serviceaccount/namespace";

std::string resolve_namespace(const std::string& flag) {
  if (!flag.empty()) return flag;
  std::error_code ec;
  if (std::filesystem::exists(kInClusterNamespaceFile, ec)) {
    try {
      const std::string text = util::read_file(kInClusterNamespaceFile, "in-cluster namespace");
      const std::string ns = text.substr(0, text.find_first_of(" \t\r\n"));
      if (!ns.empty()) return ns;
    } catch (const util::FileReadError& e) {
      spdlog::warn("{}; trying $OPERATOR_NAMESPACE", e.what());
    }
  }
  const char* env = std::getenv("OPERATOR_NAMESPACE");
  return env ? env : "";
}

// glibc gives threads that allocate at once arenas of their own (up to 8 per
// core), and memory freed in one arena is not reused by another. The operator's
// threads mostly wait on the network; two arenas are plenty and keep the resident
// size what the caches hold. MALLOC_ARENA_MAX in the environment still wins.
void limit_malloc_arenas() {
  if (std::getenv("MALLOC_ARENA_MAX") == nullptr) mallopt(M_ARENA_MAX, 2);
}

}  // namespace

void add_run_command(CLI::App& command, RunOptions& o) {
  command.footer(
      "Reconciles the ClusterPolicy (nvidia.com/v1) into the NVIDIA device-plugin, MPS control-daemon\n"
      "and GPU Feature Discovery DaemonSets.");
  add_string(command, "--kubeconfig", o.kubeconfig,
             "kubeconfig file; default: $KUBECONFIG, then the in-cluster service account, then ~/.kube/config",
             "PATH");
  add_string(command, "--namespace", o.ns,
             "namespace of the operator and its operands; default: the in-cluster namespace, else $OPERATOR_NAMESPACE",
             "NS");
  add_bool(command, "--leader-elect", o.leader_elect,
           "run only while holding a coordination.k8s.io Lease (for replicas > 1)");
  add_string(command, "--leader-election-namespace", o.lease_namespace, "namespace of the Lease; default: --namespace",
             "NS");
  add_string(command, "--leader-election-id", o.lease_name, "name of the Lease", "NAME");
  add_string(command, "--health-probe-bind-address", o.health_address, "address of /healthz and /readyz; 0 disables",
             "ADDR");
  add_string(command, "--metrics-bind-address", o.metrics_address, "address of /metrics; 0 disables", "ADDR");
  add_bool(command, "--metrics-secure", o.metrics_secure,
           "serve /metrics over HTTPS, only to bearer tokens allowed `get` on /metrics (checked with TokenReview "
           "and SubjectAccessReview); =false serves plain HTTP without authentication, on a loopback address only");
  add_string(command, "--metrics-cert-dir", o.metrics_cert_dir,
             "directory holding tls.crt and tls.key for /metrics, e.g. a mounted Secret; a rotated pair is "
             "served to new connections within --metrics-cert-reload-interval, without a restart (an unusable "
             "one is reported and the previous pair kept); default: a self-signed certificate made at start",
             "DIR");
  add_duration(command, "--metrics-cert-reload-interval", o.metrics_cert_reload_interval,
               "how often --metrics-cert-dir is checked for a rotated certificate");
  add_string(command, "--log-format", o.log_format, "text or json", "FORMAT");
  add_string(command, "--log-level", o.log_level, "trace, debug, info, warn, error", "LEVEL");
  add_string(command, "--device-plugin-image", o.device_plugin_image,
             "device-plugin image when the ClusterPolicy names none", "IMAGE")
      ->envname("DEVICE_PLUGIN_IMAGE");
  add_string(command, "--gfd-image", o.gfd_image, "GPU Feature Discovery image when the ClusterPolicy names none",
             "IMAGE")
      ->envname("GFD_IMAGE");
  add_duration(command, "--graceful-shutdown-timeout", o.graceful_shutdown,
               "how long a stop waits for reconciles in flight");
  add_duration(command, "--rollout-deadline", o.rollout_deadline,
               "a config rollout making no progress this long is rolled back to the previous snapshot; "
               "the ClusterPolicy annotation clusterpolicy-operator.dev/rollout-deadline overrides it");
  add_duration(command, "--effect-grace-period", o.effect_grace,
               "a GPU node whose labels or capacity still disagree with a config this long after it rolled "
               "out is reported Mismatched; the ClusterPolicy annotation "
               "clusterpolicy-operator.dev/effect-grace-period overrides it");
  add_duration(command, "--conflict-quiet-period", o.conflict_quiet,
               "an operand held because another manager keeps writing fields this operator applies is "
               "applied again once that manager has been quiet this long (doubling each time it is held "
               "again); the ClusterPolicy annotation clusterpolicy-operator.dev/conflict-quiet-period "
               "overrides it, and any new value of clusterpolicy-operator.dev/resume-apply resumes at once");
  command
      .add_option("--node-label-concurrency", o.node_label_concurrency,
                  "node label PATCHes in flight at most (1-256): how fast a fleet is labelled")
      ->type_name("N")
      ->capture_default_str();
}

int run_command(const RunOptions& o) {
  limit_malloc_arenas();
  runtime::BindAddress health, metrics;
  runtime::LogFormat format;
  try {
    if (o.rollout_deadline.count() <= 0) throw UsageError("--rollout-deadline must be longer than 0s");
    if (o.effect_grace.count() < 0) throw UsageError("--effect-grace-period cannot be negative");
    if (o.conflict_quiet.count() < 0) throw UsageError("--conflict-quiet-period cannot be negative");
    if (o.metrics_cert_reload_interval.count() <= 0) {
      throw UsageError("--metrics-cert-reload-interval must be longer than 0s");
    }
    if (o.node_label_concurrency < 1 || o.node_label_concurrency > 256) {
      throw UsageError("--node-label-concurrency must be between 1 and 256, got " +
                       std::to_string(o.node_label_concurrency));
    }
    health = runtime::parse_bind_address(o.health_address, "--health-probe-bind-address");
    metrics = runtime::parse_bind_address(o.metrics_address, "--metrics-bind-address");
    if (!o.metrics_secure && !metrics.disabled && metrics.host != "127.0.0.1" && metrics.host != "::1" &&
        metrics.host != "localhost") {
      throw UsageError("--metrics-secure=false serves /metrics without TLS or authentication: bind it to a loopback "
                       "address (e.g. --metrics-bind-address=127.0.0.1:8080), not \"" + o.metrics_address + "\"");
    }
    format = runtime::parse_log_format(o.log_format);
    runtime::setup_logging(format, o.log_level);
  } catch (const std::invalid_argument& e) {
    throw UsageError(e.what());
  }

  const std::string ns = resolve_namespace(o.ns);
  if (ns.empty()) {
    spdlog::error("no operator namespace: pass --namespace, run in a pod, or set OPERATOR_NAMESPACE");
    return 2;
  }

  // Signals are blocked before any thread starts, so only the signal thread sees them.
  std::stop_source& stop = runtime::install_signal_handlers();

  runtime::Metrics metrics_registry;
  std::unique_ptr<kube::Client> client;
  try {
    kube::ClusterConfig config = kube::load_default(o.kubeconfig);
    kube::ClientOptions client_options;
    client_options.observer = metrics_registry.rest_observer(config.host + ":" + config.port);
    client_options.request_timeout = std::chrono::seconds(20);
    spdlog::info("connecting to {} ({})", config.server, config.source);
    client = std::make_unique<kube::Client>(std::move(config), client_options);
  } catch (const kube::ConfigError& e) {
    spdlog::error("{}", e.what());
    return 1;
  }

  runtime::ManagerOptions manager_options;
  manager_options.leader_elect = o.leader_elect;
  manager_options.lease.lease_namespace = o.lease_namespace.empty() ? ns : o.lease_namespace;
  manager_options.lease.lease_name = o.lease_name;
  // Pod name (or host name) plus a unique suffix: a restarted pod is a new candidate.
  std::string identity = runtime::default_identity();
  if (const char* pod = std::getenv("POD_NAME"); pod && *pod) identity = pod + identity.substr(identity.rfind('_'));
  manager_options.lease.identity = identity;
  manager_options.health_address = health;
  manager_options.metrics_address = metrics;
  manager_options.metrics_secure = o.metrics_secure;
  manager_options.metrics_cert_dir = o.metrics_cert_dir;
  manager_options.metrics_cert_reload_interval = o.metrics_cert_reload_interval;
  manager_options.graceful_shutdown = o.graceful_shutdown;

  runtime::KubeEventSink sink(*client);
  runtime::EventRecorder events(sink, "clusterpolicy-operator");
  try {
    runtime::Manager manager(*client, manager_options, metrics_registry);
    clusterpolicy::ControllerOptions controller_options;
    controller_options.ns = ns;
    controller_options.images = {o.device_plugin_image, o.gfd_image};
    controller_options.rollout_deadline = o.rollout_deadline;
    controller_options.effect_grace = o.effect_grace;
    controller_options.conflict_quiet = o.conflict_quiet;
    controller_options.metrics = &metrics_registry;
    clusterpolicy::ClusterPolicyController controller(*client, manager, events, controller_options);
    clusterpolicy::NodeLabelController node_labels(*client, manager, {.workers = o.node_label_concurrency});
    spdlog::info("clusterpolicy-operator starting in namespace {}", ns);
    int code = manager.run(stop.get_token());
    events.flush(std::chrono::seconds(2));
    return code;
  } catch (const std::exception& e) {
    spdlog::error("{}", e.what());
    return 1;
  }
}

}  // namespace cpo::cli
