#include "runtime/metrics_auth.hpp"

#include <spdlog/spdlog.h>

#include "apimachinery/hash.hpp"
#include "kube/errors.hpp"

namespace cpo::runtime {

using json = nlohmann::json;

namespace {

constexpr std::size_t kMaxCached = 1024;
constexpr std::chrono::seconds kReviewTimeout{5};

// The token of "Bearer <token>" (case-insensitive scheme); "" when there is none.
std::string bearer_token(const std::string& header) {
  if (header.size() < 7) return "";
  std::string scheme = header.substr(0, 7);
  for (auto& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (scheme != "bearer ") return "";
  const auto start = header.find_first_not_of(' ', 7);
  return start == std::string::npos ? "" : header.substr(start);
}

}  // namespace

MetricsAuthorizer::MetricsAuthorizer(kube::Client& client, std::chrono::seconds cache_ttl)
    : client_(client), ttl_(cache_ttl) {}

AuthVerdict MetricsAuthorizer::check(const std::string& authorization, const std::string& path) {
  const std::string token = bearer_token(authorization);
  if (token.empty()) return {401, "Unauthorized: a bearer token is required"};
  const std::string key = apimachinery::sha256_hex(token + "\n" + path);
  const auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard lock(mutex_);
    if (auto it = cache_.find(key); it != cache_.end() && it->second.until > now) return it->second.verdict;
  }
  AuthVerdict verdict = review(token, path);
  if (verdict.status != 500) {
    std::lock_guard lock(mutex_);
    if (cache_.size() >= kMaxCached) std::erase_if(cache_, [&](const auto& e) { return e.second.until <= now; });
    if (cache_.size() < kMaxCached) cache_[key] = {verdict, now + ttl_};
  }
  return verdict;
}

AuthVerdict MetricsAuthorizer::review(const std::string& token, const std::string& path) {
  const kube::WriteOptions options{.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(kReviewTimeout)};
  try {
    const json token_review = client_.create(
        kube::resources::tokenreviews,
        {{"apiVersion", "authentication.k8s.io/v1"},
         {"kind", "TokenReview"},
         {"metadata", json::object()},
         {"spec", {{"token", token}}}}, options);
    const json status = token_review.value("status", json::object());
    if (!status.value("authenticated", false)) return {401, "Unauthorized: the token is not valid"};
    const json user = status.value("user", json::object());
    const std::string username = user.value("username", "");
    json spec = {{"user", username}, {"nonResourceAttributes", {{"path", path}, {"verb", "get"}}}};
    for (const char* field : {"uid", "groups", "extra"}) {
      if (user.contains(field)) spec[field] = user[field];
    }
    const json access = client_.create(
        kube::resources::subjectaccessreviews,
        {{"apiVersion", "authorization.k8s.io/v1"},
         {"kind", "SubjectAccessReview"},
         {"metadata", json::object()},
         {"spec", spec}}, options);
    if (access.value("status", json::object()).value("allowed", false)) return {200, username};
    return {403, "Forbidden: user \"" + username + "\" may not get path \"" + path + "\""};
  } catch (const std::exception& e) {
    spdlog::warn("cannot check a /metrics request with the API server: {}", e.what());
    return {500, "Internal Server Error: the request could not be authorized"};
  }
}

}  // namespace cpo::runtime
