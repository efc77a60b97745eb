// The harness's fault-injecting proxy (tests/faultproxy, cpo-fault-proxy) in front of
// the test cluster's API server, for one test: a kubeconfig that reaches the API
// server through it under a static-token identity, the faults it injects and what it
// counted.
#pragma once

#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>
#include <sys/types.h>

#include "support/test_cluster.hpp"

namespace cpo::testing {

class FaultProxy {
 public:
  explicit FaultProxy(const TestCluster& cluster);
  ~FaultProxy();
  FaultProxy(const FaultProxy&) = delete;
  FaultProxy& operator=(const FaultProxy&) = delete;

  // A kubeconfig for system:serviceaccount:NS:NAME (a `cluster up --sa` identity)
  // whose server is the proxy.
  std::filesystem::path identity_kubeconfig(const std::string& ns, const std::string& name) const;

  // Replaces the faults (the JSON of tests/faultproxy's Faults; {} = none). A
  // blackhole also ends every open connection.
  void set(const nlohmann::json& faults) const;
  // What passed since the start or reset(): requests, byMethod, watches,
  // injected500, injected429, dropped, cut, retryGapsMs, upstreamCodes.
  nlohmann::json stats() const;
  void reset() const;
  std::string log_tail(std::size_t bytes = 3000) const;

 private:
  std::string control(const std::string& method, const std::string& path, const std::string& body = {}) const;

  const TestCluster& cluster_;
  std::filesystem::path dir_;
  std::string address_;
  std::string control_;
  pid_t pid_ = -1;
};

}  // namespace cpo::testing
