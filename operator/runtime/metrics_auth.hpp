// Who may read /metrics, as controller-runtime's secure metrics server decides it:
// the request's bearer token is checked with a TokenReview (authentication.k8s.io),
// and the user it names must be allowed `get` on the non-resource URL /metrics by a
// SubjectAccessReview (authorization.k8s.io) — the ClusterRole a scraper is bound
// to (`nonResourceURLs: ["/metrics"], verbs: ["get"]`). Verdicts are cached per
// token for a short while, so a scrape every few seconds costs no API request;
// errors are not cached. The token is never logged.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <string>

#include "kube/client.hpp"

namespace cpo::runtime {

struct AuthVerdict {
  int status = 500;     // 200 allowed, 401 no or bad token, 403 not allowed, 500 could not check
  std::string message;  // for the response body and the log
};

class MetricsAuthorizer {
 public:
  explicit MetricsAuthorizer(kube::Client& client, std::chrono::seconds cache_ttl = std::chrono::seconds(10));

  // `authorization`: the request's Authorization header ("" when none).
  AuthVerdict check(const std::string& authorization, const std::string& path);

 private:
  AuthVerdict review(const std::string& token, const std::string& path);

  kube::Client& client_;
  std::chrono::seconds ttl_;
  struct Cached {
    AuthVerdict verdict;
    std::chrono::steady_clock::time_point until;
  };
  std::mutex mutex_;
  std::map<std::string, Cached> cache_;  // by sha256 of token and path
};

}  // namespace cpo::runtime
