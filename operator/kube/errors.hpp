// Typed errors for Kubernetes API calls.
//
// The API server answers failures with a `Status` object; ApiError carries its
// reason, message and causes so callers can branch on the kind of failure
// (NotFound, Conflict, ...) and users see the server's own words.
#pragma once

#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace cpo::kube {

enum class ErrorKind {
  BadRequest,        // 400
  Unauthorized,      // 401
  Forbidden,         // 403
  NotFound,          // 404
  MethodNotAllowed,  // 405
  NotAcceptable,     // 406
  AlreadyExists,     // 409 reason AlreadyExists
  Conflict,          // 409 otherwise (stale resourceVersion, apply conflicts)
  Gone,              // 410, and watch ERROR events "too old resource version"
  UnsupportedMediaType,  // 415
  Invalid,           // 422
  TooManyRequests,   // 429
  ServerTimeout,     // 504 or reason Timeout/ServerTimeout
  InternalError,     // other 5xx
  Other,
};

std::string_view to_string(ErrorKind kind);

// One entry of Status.details.causes: which field, what is wrong with it.
struct StatusCause {
  std::string type;
  std::string message;
  std::string field;
};

// A failure reported by the API server.
class ApiError : public std::runtime_error {
 public:
  ApiError(int http_code, ErrorKind kind, std::string reason, std::string message,
           std::vector<StatusCause> causes = {},
           std::optional<std::chrono::seconds> retry_after = std::nullopt);

  int code() const { return code_; }
  ErrorKind kind() const { return kind_; }
  // The Status reason as the server sent it ("NotFound", "Conflict", ...), possibly empty.
  const std::string& reason() const { return reason_; }
  // The server's human-readable message.
  const std::string& message() const { return message_; }
  const std::vector<StatusCause>& causes() const { return causes_; }
  // Set for 429 and for 5xx answers that carry Retry-After / details.retryAfterSeconds.
  std::optional<std::chrono::seconds> retry_after() const { return retry_after_; }

  bool is_not_found() const { return kind_ == ErrorKind::NotFound; }
  bool is_already_exists() const { return kind_ == ErrorKind::AlreadyExists; }
  bool is_conflict() const { return kind_ == ErrorKind::Conflict; }
  bool is_gone() const { return kind_ == ErrorKind::Gone; }
  bool is_invalid() const { return kind_ == ErrorKind::Invalid; }
  bool is_forbidden() const { return kind_ == ErrorKind::Forbidden; }
  // Worth retrying later: throttling, timeouts, server errors, conflicts.
  bool is_retryable() const;

 private:
  int code_;
  ErrorKind kind_;
  std::string reason_;
  std::string message_;
  std::vector<StatusCause> causes_;
  std::optional<std::chrono::seconds> retry_after_;
};

// The API server could not be reached or the connection broke (no HTTP answer).
class TransportError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Builds the error for a non-2xx answer. `body` is usually a Status object; when
// it is not (a proxy's HTML page, say), the message quotes the start of the body.
ApiError error_from_response(int http_code, std::string_view body,
                             std::string_view retry_after_header = {});

// Builds the error from a Status object (a watch ERROR event carries one).
ApiError error_from_status(const nlohmann::json& status);

// How long the server asked to wait before the same request is sent again: set for
// 429 and 5xx answers whose Retry-After header is whole seconds (as client-go reads
// it; such an answer means the server did not act on the request).
std::optional<std::chrono::seconds> server_asked_wait(int http_code, std::string_view retry_after_header);

// The kind implied by an HTTP code and a Status reason.
ErrorKind classify(int http_code, std::string_view reason);

}  // namespace cpo::kube
