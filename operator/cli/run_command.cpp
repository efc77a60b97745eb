// `clusterpolicy-operator run`: the controller process.
#include <cstdlib>
#include <filesystem>
#include <iostream>

#include <spdlog/spdlog.h>

#include "cli/commands.hpp"
#include "cli/flags.hpp"
#include "clusterpolicy/controller.hpp"
#include "kube/config.hpp"
#include "runtime/event_recorder.hpp"
#include "runtime/logging.hpp"
#include "runtime/manager.hpp"
#include "util/file_read.hpp"

namespace cpo::cli {

namespace {

constexpr const char* kInClusterNamespaceFile = "/var/run/secrets/kubernetes.io/serviceaccount/namespace";

std::string env_or(const char* name, const std::string& fallback) {
  const char* value = std::getenv(name);
  return value && *value ? value : fallback;
}

std::string resolve_namespace(const std::string& flag) {
  if (!flag.empty()) return flag;
  std::error_code ec;
  if (std::filesystem::exists(kInClusterNamespaceFile, ec)) {
    const std::string text = util::read_file(kInClusterNamespaceFile, "in-cluster namespace");
    const std::string ns = text.substr(0, text.find('\n'));
    if (!ns.empty()) return ns;
  }
  return env_or("OPERATOR_NAMESPACE", "");
}

}  // namespace

int run_command(const std::vector<std::string>& args) {
  std::string kubeconfig;
  std::string ns;
  bool leader_elect = false;
  std::string lease_namespace;
  std::string lease_name = "clusterpolicy-operator-leader";
  std::string health_address = ":8081";
  std::string metrics_address = ":8080";
  std::string log_format = "text";
  std::string log_level = "info";
  std::string device_plugin_image = env_or("DEVICE_PLUGIN_IMAGE", clusterpolicy::kDefaultOperandImage);
  std::string gfd_image = env_or("GFD_IMAGE", clusterpolicy::kDefaultOperandImage);
  std::chrono::seconds graceful_shutdown{30};
  std::chrono::seconds rollout_deadline{600};

  FlagSet flags("run");
  flags.add_string("kubeconfig", &kubeconfig,
                   "kubeconfig file; default: $KUBECONFIG, then the in-cluster service account, then ~/.kube/config",
                   "PATH");
  flags.add_string("namespace", &ns,
                   "namespace of the operator and its operands; default: the in-cluster namespace, else "
                   "$OPERATOR_NAMESPACE",
                   "NS");
  flags.add_bool("leader-elect", &leader_elect, "run only while holding a coordination.k8s.io Lease (for replicas > 1)");
  flags.add_string("leader-election-namespace", &lease_namespace, "namespace of the Lease; default: --namespace", "NS");
  flags.add_string("leader-election-id", &lease_name, "name of the Lease", "NAME");
  flags.add_string("health-probe-bind-address", &health_address, "address of /healthz and /readyz; 0 disables", "ADDR");
  flags.add_string("metrics-bind-address", &metrics_address, "address of /metrics; 0 disables", "ADDR");
  flags.add_string("log-format", &log_format, "text or json", "FORMAT");
  flags.add_string("log-level", &log_level, "trace, debug, info, warn, error", "LEVEL");
  flags.add_string("device-plugin-image", &device_plugin_image,
                   "device-plugin image when the ClusterPolicy names none (env DEVICE_PLUGIN_IMAGE)", "IMAGE");
  flags.add_string("gfd-image", &gfd_image, "GPU Feature Discovery image when the ClusterPolicy names none (env GFD_IMAGE)",
                   "IMAGE");
  flags.add_duration("graceful-shutdown-timeout", &graceful_shutdown,
                     "how long a stop waits for reconciles in flight");
  flags.add_duration("rollout-deadline", &rollout_deadline,
                     "a config rollout making no progress this long is rolled back to the previous snapshot; "
                     "the ClusterPolicy annotation nvidia.com/rollout-deadline overrides it");

  std::vector<std::string> positional;
  runtime::BindAddress health, metrics;
  runtime::LogFormat format;
  try {
    positional = flags.parse(args);
    if (flags.help_requested()) {
      std::cout << "Usage: clusterpolicy-operator run [flags]\n\n"
                   "Reconciles the ClusterPolicy (nvidia.com/v1) into the NVIDIA device-plugin, MPS control-daemon\n"
                   "and GPU Feature Discovery DaemonSets.\n\nFlags:\n"
                << flags.usage();
      return 0;
    }
    if (!positional.empty()) throw UsageError("unexpected argument \"" + positional[0] + "\"");
    if (rollout_deadline.count() <= 0) throw UsageError("--rollout-deadline must be longer than 0s");
    health = runtime::parse_bind_address(health_address, "--health-probe-bind-address");
    metrics = runtime::parse_bind_address(metrics_address, "--metrics-bind-address");
    format = runtime::parse_log_format(log_format);
    runtime::setup_logging(format, log_level);
  } catch (const std::invalid_argument& e) {
    throw UsageError(e.what());
  }

  ns = resolve_namespace(ns);
  if (ns.empty()) {
    spdlog::error("no operator namespace: pass --namespace, run in a pod, or set OPERATOR_NAMESPACE");
    return 2;
  }

  // Signals are blocked before any thread starts, so only the signal thread sees them.
  std::stop_source& stop = runtime::install_signal_handlers();

  runtime::Metrics metrics_registry;
  std::unique_ptr<kube::Client> client;
  try {
    kube::ClusterConfig config = kube::load_default(kubeconfig);
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
  manager_options.leader_elect = leader_elect;
  manager_options.lease.lease_namespace = lease_namespace.empty() ? ns : lease_namespace;
  manager_options.lease.lease_name = lease_name;
  // Pod name (or host name) plus a unique suffix: a restarted pod is a new candidate.
  std::string identity = runtime::default_identity();
  if (const char* pod = std::getenv("POD_NAME"); pod && *pod) identity = pod + identity.substr(identity.rfind('_'));
  manager_options.lease.identity = identity;
  manager_options.health_address = health;
  manager_options.metrics_address = metrics;
  manager_options.graceful_shutdown = graceful_shutdown;

  runtime::KubeEventSink sink(*client);
  runtime::EventRecorder events(sink, "clusterpolicy-operator");
  try {
    runtime::Manager manager(*client, manager_options, metrics_registry);
    clusterpolicy::ControllerOptions controller_options;
    controller_options.ns = ns;
    controller_options.images = {device_plugin_image, gfd_image};
    controller_options.rollout_deadline = rollout_deadline;
    controller_options.metrics = &metrics_registry;
    clusterpolicy::ClusterPolicyController controller(*client, manager, events, controller_options);
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
