#include <catch2/catch.hpp>

#include "kube/errors.hpp"

using namespace cpo::kube;

TEST_CASE("Status bodies become typed errors carrying the server's message", "[errors]") {
  struct Case {
    int code;
    const char* reason;
    ErrorKind kind;
  };
  const Case cases[] = {
      {404, "NotFound", ErrorKind::NotFound},
      {409, "AlreadyExists", ErrorKind::AlreadyExists},
      {409, "Conflict", ErrorKind::Conflict},
      {410, "Expired", ErrorKind::Gone},
      {410, "Gone", ErrorKind::Gone},
      {422, "Invalid", ErrorKind::Invalid},
      {403, "Forbidden", ErrorKind::Forbidden},
      {401, "Unauthorized", ErrorKind::Unauthorized},
      {429, "TooManyRequests", ErrorKind::TooManyRequests},
      {500, "InternalError", ErrorKind::InternalError},
      {503, "ServiceUnavailable", ErrorKind::InternalError},
      {504, "Timeout", ErrorKind::ServerTimeout},
      {400, "BadRequest", ErrorKind::BadRequest},
      {415, "UnsupportedMediaType", ErrorKind::UnsupportedMediaType},
  };
  for (const auto& c : cases) {
    nlohmann::json status = {{"kind", "Status"}, {"apiVersion", "v1"}, {"status", "Failure"},
                             {"message", std::string("message for ") + c.reason},
                             {"reason", c.reason}, {"code", c.code}};
    ApiError e = error_from_response(c.code, status.dump());
    INFO(c.code << " " << c.reason);
    CHECK(e.kind() == c.kind);
    CHECK(e.code() == c.code);
    CHECK(e.reason() == c.reason);
    CHECK(e.message() == std::string("message for ") + c.reason);
    CHECK(std::string(e.what()).find(e.message()) != std::string::npos);
  }
}

TEST_CASE("Invalid carries every cause with its field", "[errors]") {
  auto body = R"({"kind":"Status","apiVersion":"v1","status":"Failure",
    "message":"ConfigMap \"x\" is invalid: metadata.name: Invalid value: \"X\": a lowercase RFC 1123 subdomain",
    "reason":"Invalid","details":{"name":"X","kind":"ConfigMap","causes":[
      {"reason":"FieldValueInvalid","message":"Invalid value: \"X\": a lowercase RFC 1123 subdomain","field":"metadata.name"},
      {"reason":"FieldValueRequired","message":"Required value","field":"data"}]},"code":422})";
  ApiError e = error_from_response(422, body);
  REQUIRE(e.is_invalid());
  REQUIRE(e.causes().size() == 2);
  CHECK(e.causes()[0].field == "metadata.name");
  CHECK(e.causes()[0].type == "FieldValueInvalid");
  CHECK(e.causes()[1].message == "Required value");
  CHECK_FALSE(e.is_retryable());
}

TEST_CASE("Retry-After comes from the header, else from details", "[errors]") {
  auto body = R"({"kind":"Status","status":"Failure","message":"too many requests",
    "reason":"TooManyRequests","details":{"retryAfterSeconds":7},"code":429})";
  ApiError from_details = error_from_response(429, body);
  REQUIRE(from_details.retry_after());
  CHECK(from_details.retry_after()->count() == 7);
  CHECK(from_details.is_retryable());
  ApiError from_header = error_from_response(429, body, "3");
  CHECK(from_header.retry_after()->count() == 3);
  ApiError bad_header = error_from_response(429, "{}", "soon");
  CHECK_FALSE(bad_header.retry_after());
}

TEST_CASE("A body that is no Status still yields a useful error", "[errors]") {
  ApiError html = error_from_response(502, "<html>bad gateway</html>");
  CHECK(html.kind() == ErrorKind::InternalError);
  CHECK(html.message() == "<html>bad gateway</html>");
  ApiError empty = error_from_response(404, "");
  CHECK(empty.is_not_found());
  CHECK(empty.message().find("404") != std::string::npos);
  std::string huge(10000, 'x');
  CHECK(error_from_response(500, huge).message().size() < 300);
}

TEST_CASE("The HTTP code wins over a Status code that disagrees", "[errors]") {
  ApiError e = error_from_response(404, R"({"kind":"Status","reason":"NotFound","message":"gone","code":0})");
  CHECK(e.code() == 404);
  CHECK(e.is_not_found());
}

TEST_CASE("A watch ERROR event with a too-old resourceVersion is Gone", "[errors]") {
  auto status = nlohmann::json::parse(
      R"json({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",
          "message":"too old resource version: 5 (120)","reason":"Expired","code":410})json");
  ApiError e = error_from_status(status);
  CHECK(e.is_gone());
  CHECK(e.message() == "too old resource version: 5 (120)");
}
