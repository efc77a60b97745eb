#include "kube/errors.hpp"

#include <charconv>

namespace cpo::kube {

std::string_view to_string(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::BadRequest: return "BadRequest";
    case ErrorKind::Unauthorized: return "Unauthorized";
    case ErrorKind::Forbidden: return "Forbidden";
    case ErrorKind::NotFound: return "NotFound";
    case ErrorKind::MethodNotAllowed: return "MethodNotAllowed";
    case ErrorKind::NotAcceptable: return "NotAcceptable";
    case ErrorKind::AlreadyExists: return "AlreadyExists";
    case ErrorKind::Conflict: return "Conflict";
    case ErrorKind::Gone: return "Gone";
    case ErrorKind::UnsupportedMediaType: return "UnsupportedMediaType";
    case ErrorKind::Invalid: return "Invalid";
    case ErrorKind::TooManyRequests: return "TooManyRequests";
    case ErrorKind::ServerTimeout: return "ServerTimeout";
    case ErrorKind::InternalError: return "InternalError";
    case ErrorKind::Other: return "Other";
  }
  return "Other";
}

namespace {

std::string describe(int code, ErrorKind kind, const std::string& message) {
  std::string out = std::string(to_string(kind)) + " (HTTP " + std::to_string(code) + ")";
  if (!message.empty()) out += ": " + message;
  return out;
}

std::optional<std::chrono::seconds> parse_seconds(std::string_view text) {
  long value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || ptr != text.data() + text.size() || value < 0) return std::nullopt;
  return std::chrono::seconds(value);
}

}  // namespace

ApiError::ApiError(int http_code, ErrorKind kind, std::string reason, std::string message,
                   std::vector<StatusCause> causes,
                   std::optional<std::chrono::seconds> retry_after)
    : std::runtime_error(describe(http_code, kind, message)),
      code_(http_code),
      kind_(kind),
      reason_(std::move(reason)),
      message_(std::move(message)),
      causes_(std::move(causes)),
      retry_after_(retry_after) {}

bool ApiError::is_retryable() const {
  switch (kind_) {
    case ErrorKind::TooManyRequests:
    case ErrorKind::ServerTimeout:
    case ErrorKind::InternalError:
    case ErrorKind::Conflict:
      return true;
    default:
      return false;
  }
}

ErrorKind classify(int http_code, std::string_view reason) {
  if (reason == "AlreadyExists") return ErrorKind::AlreadyExists;
  if (reason == "Expired" || reason == "Gone") return ErrorKind::Gone;
  if (reason == "Timeout" || reason == "ServerTimeout") return ErrorKind::ServerTimeout;
  switch (http_code) {
    case 400: return ErrorKind::BadRequest;
    case 401: return ErrorKind::Unauthorized;
    case 403: return ErrorKind::Forbidden;
    case 404: return ErrorKind::NotFound;
    case 405: return ErrorKind::MethodNotAllowed;
    case 406: return ErrorKind::NotAcceptable;
    case 409: return ErrorKind::Conflict;
    case 410: return ErrorKind::Gone;
    case 415: return ErrorKind::UnsupportedMediaType;
    case 422: return ErrorKind::Invalid;
    case 429: return ErrorKind::TooManyRequests;
    case 504: return ErrorKind::ServerTimeout;
    default: break;
  }
  if (http_code >= 500 && http_code <= 599) return ErrorKind::InternalError;
  return ErrorKind::Other;
}

ApiError error_from_status(const nlohmann::json& status) {
  int code = status.value("code", 0);
  std::string reason = status.value("reason", "");
  std::string message = status.value("message", "");
  std::vector<StatusCause> causes;
  std::optional<std::chrono::seconds> retry_after;
  if (auto details = status.find("details"); details != status.end() && details->is_object()) {
    if (auto list = details->find("causes"); list != details->end() && list->is_array()) {
      for (const auto& c : *list) {
        if (!c.is_object()) continue;
        causes.push_back({c.value("reason", ""), c.value("message", ""), c.value("field", "")});
      }
    }
    if (auto ra = details->find("retryAfterSeconds"); ra != details->end() && ra->is_number_integer()) {
      retry_after = std::chrono::seconds(ra->get<long>());
    }
  }
  return ApiError(code, classify(code, reason), std::move(reason), std::move(message),
                  std::move(causes), retry_after);
}

std::optional<std::chrono::seconds> server_asked_wait(int http_code, std::string_view retry_after_header) {
  if (http_code != 429 && http_code < 500) return std::nullopt;
  return parse_seconds(retry_after_header);
}

ApiError error_from_response(int http_code, std::string_view body,
                             std::string_view retry_after_header) {
  auto status = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  std::optional<std::chrono::seconds> header_retry = parse_seconds(retry_after_header);
  if (status.is_object() && status.value("kind", "") == "Status") {
    if (!status.contains("code") || status["code"].get<int>() == 0) status["code"] = http_code;
    ApiError parsed = error_from_status(status);
    // The HTTP code is authoritative; the header beats the body for Retry-After.
    auto retry = header_retry ? header_retry : parsed.retry_after();
    return ApiError(http_code, classify(http_code, parsed.reason()), parsed.reason(),
                    parsed.message(), parsed.causes(), retry);
  }
  constexpr std::size_t kQuote = 200;
  std::string message(body.substr(0, kQuote));
  if (body.size() > kQuote) message += "...";
  if (message.empty()) message = "the server returned HTTP " + std::to_string(http_code) + " with no body";
  return ApiError(http_code, classify(http_code, ""), "", std::move(message), {}, header_retry);
}

}  // namespace cpo::kube
