#include "runtime/metrics.hpp"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unistd.h>

#include <prometheus/text_serializer.h>

namespace cpo::runtime {

namespace {

template <class Builder>
auto& family(Builder builder, const char* name, const char* help, prometheus::Registry& registry) {
  return builder.Name(name).Help(help).Register(registry);
}

// Process figures from /proc/self (Linux).
struct ProcessSample {
  double resident_bytes = 0;
  double virtual_bytes = 0;
  double cpu_seconds = 0;
  double start_time_seconds = 0;
  double open_fds = 0;
};

ProcessSample sample_process() {
  ProcessSample s;
  const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  std::ifstream statm("/proc/self/statm");
  double size = 0, resident = 0;
  if (statm >> size >> resident) {
    s.virtual_bytes = size * page;
    s.resident_bytes = resident * page;
  }
  std::ifstream stat_file("/proc/self/stat");
  std::string stat((std::istreambuf_iterator<char>(stat_file)), {});
  // Fields after the parenthesised command name; utime, stime are fields 14, 15,
  // starttime is 22 (1-based, counting the pid as 1).
  auto close = stat.rfind(')');
  if (close != std::string::npos) {
    std::istringstream rest(stat.substr(close + 2));
    std::string field;
    double utime = 0, stime = 0, start_ticks = 0;
    for (int i = 3; rest >> field; ++i) {
      if (i == 14) utime = std::stod(field);
      if (i == 15) stime = std::stod(field);
      if (i == 22) {
        start_ticks = std::stod(field);
        break;
      }
    }
    s.cpu_seconds = (utime + stime) / ticks;
    std::ifstream uptime_file("/proc/uptime");
    double uptime = 0;
    if (uptime_file >> uptime) {
      double now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
      s.start_time_seconds = now - uptime + start_ticks / ticks;
    }
  }
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    s.open_fds += 1;
  }
  return s;
}

}  // namespace

prometheus::Histogram::BucketBoundaries Metrics::duration_buckets() {
  return {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
}

Metrics::Metrics()
    : registry_(std::make_shared<prometheus::Registry>()),
      reconcile_total(family(prometheus::BuildCounter(), "controller_runtime_reconcile_total",
                             "Total number of reconciliations per controller", *registry_)),
      reconcile_errors_total(family(prometheus::BuildCounter(), "controller_runtime_reconcile_errors_total",
                                    "Total number of reconciliation errors per controller", *registry_)),
      reconcile_time_seconds(family(prometheus::BuildHistogram(), "controller_runtime_reconcile_time_seconds",
                                    "Length of time per reconciliation per controller", *registry_)),
      active_workers(family(prometheus::BuildGauge(), "controller_runtime_active_workers",
                            "Number of currently used workers per controller", *registry_)),
      max_concurrent_reconciles(family(prometheus::BuildGauge(), "controller_runtime_max_concurrent_reconciles",
                                       "Maximum number of concurrent reconciles per controller", *registry_)),
      leader_election_master_status(family(prometheus::BuildGauge(), "leader_election_master_status",
                                           "Gauge of if the reporting system is master of the relevant lease, "
                                           "0 indicates backup, 1 indicates master. 'name' is the string used "
                                           "to identify the lease.",
                                           *registry_)),
      rest_client_requests_total(family(prometheus::BuildCounter(), "rest_client_requests_total",
                                        "Number of HTTP requests, partitioned by status code, method, and host.",
                                        *registry_)),
      rest_client_request_duration_seconds(family(prometheus::BuildHistogram(),
                                                  "rest_client_request_duration_seconds",
                                                  "Request latency in seconds. Broken down by verb.", *registry_)),
      workqueue_depth(family(prometheus::BuildGauge(), "workqueue_depth", "Current depth of workqueue", *registry_)),
      workqueue_adds_total(family(prometheus::BuildCounter(), "workqueue_adds_total",
                                  "Total number of adds handled by workqueue", *registry_)),
      workqueue_retries_total(family(prometheus::BuildCounter(), "workqueue_retries_total",
                                     "Total number of retries handled by workqueue", *registry_)),
      workqueue_work_duration_seconds(family(prometheus::BuildHistogram(), "workqueue_work_duration_seconds",
                                             "How long in seconds processing an item from workqueue takes.",
                                             *registry_)),
      workqueue_queue_duration_seconds(family(prometheus::BuildHistogram(), "workqueue_queue_duration_seconds",
                                              "How long in seconds an item stays in workqueue before being "
                                              "requested",
                                              *registry_)),
      workqueue_longest_running_processor_seconds(
          family(prometheus::BuildGauge(), "workqueue_longest_running_processor_seconds",
                 "How many seconds has the longest running processor for workqueue been running.", *registry_)),
      workqueue_unfinished_work_seconds(family(prometheus::BuildGauge(), "workqueue_unfinished_work_seconds",
                                               "How many seconds of work has been done that is in progress and "
                                               "hasn't been observed by work_duration.",
                                               *registry_)),
      resident_memory_(family(prometheus::BuildGauge(), "process_resident_memory_bytes",
                              "Resident memory size in bytes.", *registry_).Add({})),
      virtual_memory_(family(prometheus::BuildGauge(), "process_virtual_memory_bytes",
                             "Virtual memory size in bytes.", *registry_).Add({})),
      cpu_seconds_(family(prometheus::BuildCounter(), "process_cpu_seconds_total",
                          "Total user and system CPU time spent in seconds.", *registry_).Add({})),
      start_time_(family(prometheus::BuildGauge(), "process_start_time_seconds",
                         "Start time of the process since unix epoch in seconds.", *registry_).Add({})),
      open_fds_(family(prometheus::BuildGauge(), "process_open_fds", "Number of open file descriptors.",
                       *registry_).Add({})) {}

void Metrics::refresh_process_metrics() {
  std::lock_guard lock(process_mutex_);
  ProcessSample s = sample_process();
  resident_memory_.Set(s.resident_bytes);
  virtual_memory_.Set(s.virtual_bytes);
  start_time_.Set(s.start_time_seconds);
  open_fds_.Set(s.open_fds);
  if (s.cpu_seconds > cpu_seconds_seen_) {
    cpu_seconds_.Increment(s.cpu_seconds - cpu_seconds_seen_);
    cpu_seconds_seen_ = s.cpu_seconds;
  }
}

std::string Metrics::serialize() {
  refresh_process_metrics();
  return prometheus::TextSerializer().Serialize(registry_->Collect());
}

kube::RequestObserver Metrics::rest_observer(const std::string& host) {
  return [this, host](std::string_view method, std::string_view code, std::chrono::duration<double> latency) {
    rest_client_requests_total.Add({{"code", std::string(code)}, {"method", std::string(method)}, {"host", host}})
        .Increment();
    rest_client_request_duration_seconds.Add({{"verb", std::string(method)}}, duration_buckets())
        .Observe(latency.count());
  };
}

}  // namespace cpo::runtime
