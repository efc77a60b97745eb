// The operator's Prometheus metrics, named as controller-runtime and client-go
// name them where they mean the same, so existing dashboards and alerts work.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "kube/client.hpp"

namespace cpo::runtime {

class Metrics {
  // Declared first: every family below is registered in it during construction.
  std::shared_ptr<prometheus::Registry> registry_;

 public:
  Metrics();

  prometheus::Registry& registry() { return *registry_; }
  // The whole registry in the Prometheus text exposition format (process metrics
  // are refreshed first).
  std::string serialize();

  // controller_runtime_reconcile_total{controller,result="success|error|requeue|requeue_after"}
  prometheus::Family<prometheus::Counter>& reconcile_total;
  // controller_runtime_reconcile_errors_total{controller}
  prometheus::Family<prometheus::Counter>& reconcile_errors_total;
  // controller_runtime_reconcile_time_seconds{controller}
  prometheus::Family<prometheus::Histogram>& reconcile_time_seconds;
  // controller_runtime_active_workers{controller}, controller_runtime_max_concurrent_reconciles{controller}
  prometheus::Family<prometheus::Gauge>& active_workers;
  prometheus::Family<prometheus::Gauge>& max_concurrent_reconciles;
  // leader_election_master_status{name}
  prometheus::Family<prometheus::Gauge>& leader_election_master_status;
  // rest_client_requests_total{code,method,host}, rest_client_request_duration_seconds{verb}
  prometheus::Family<prometheus::Counter>& rest_client_requests_total;
  prometheus::Family<prometheus::Histogram>& rest_client_request_duration_seconds;
  // workqueue_*{name}
  prometheus::Family<prometheus::Gauge>& workqueue_depth;
  prometheus::Family<prometheus::Counter>& workqueue_adds_total;
  prometheus::Family<prometheus::Counter>& workqueue_retries_total;
  prometheus::Family<prometheus::Histogram>& workqueue_work_duration_seconds;
  prometheus::Family<prometheus::Histogram>& workqueue_queue_duration_seconds;
  prometheus::Family<prometheus::Gauge>& workqueue_longest_running_processor_seconds;
  prometheus::Family<prometheus::Gauge>& workqueue_unfinished_work_seconds;

  // Counts every API request of a client into rest_client_* for `host`.
  kube::RequestObserver rest_observer(const std::string& host);

  // Histogram buckets used for durations (seconds).
  static prometheus::Histogram::BucketBoundaries duration_buckets();

 private:
  void refresh_process_metrics();

  std::mutex process_mutex_;
  prometheus::Gauge& resident_memory_;
  prometheus::Gauge& virtual_memory_;
  prometheus::Counter& cpu_seconds_;
  prometheus::Gauge& start_time_;
  prometheus::Gauge& open_fds_;
  double cpu_seconds_seen_ = 0;
};

}  // namespace cpo::runtime
