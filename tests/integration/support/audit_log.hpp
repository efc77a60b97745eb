// The test cluster's API server audit log (DIR/audit.log, JSON lines, Metadata level:
// every write of any client, every request of a --sa identity): what the API server
// itself recorded, to check which client wrote what and when.
#pragma once

#include <chrono>
#include <ctime>
#include <stdexcept>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/test_cluster.hpp"

namespace cpo::testing::audit {

using json = nlohmann::json;

// The events of `stage` that `keep` accepts, in log order: ResponseComplete for
// requests answered, ResponseStarted for long-running ones (watches) once opened.
inline std::vector<json> at_stage(const TestCluster& cluster, const std::string& stage,
                                  const std::function<bool(const json&)>& keep) {
  std::vector<json> out;
  std::ifstream in(cluster.dir() / "audit.log");
  std::string line;
  while (std::getline(in, line)) {
    json event = json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!event.is_object() || event.value("stage", "") != stage) continue;
    if (keep(event)) out.push_back(std::move(event));
  }
  return out;
}

// The completed requests that `keep` accepts, in log order.
inline std::vector<json> completed(const TestCluster& cluster, const std::function<bool(const json&)>& keep) {
  return at_stage(cluster, "ResponseComplete", keep);
}

inline std::string user_of(const json& event) { return event["user"].value("username", ""); }
inline std::string resource_of(const json& event) {
  return event.value("objectRef", json::object()).value("resource", "");
}
inline int code_of(const json& event) { return event.value("responseStatus", json::object()).value("code", 0); }
inline bool is_write(const json& event) {
  const std::string verb = event.value("verb", "");
  return verb == "create" || verb == "update" || verb == "patch" || verb == "delete" || verb == "deletecollection";
}

// A MicroTime as the audit log writes it: 2026-12-03T12:17:48.123456Z.
inline std::chrono::system_clock::time_point micro_time(const std::string& text) {
  std::tm utc{};
  const char* end = text.size() >= 20 ? strptime(text.c_str(), "%Y-%m-%dT%H:%M:%S", &utc) : nullptr;
  if (!end) throw std::runtime_error("not a MicroTime: " + text);
  long micros = 0;
  if (*end == '.') {
    int digits = 0;
    for (++end; *end >= '0' && *end <= '9'; ++end, ++digits) micros = micros * 10 + (*end - '0');
    for (; digits < 6; ++digits) micros *= 10;
  }
  return std::chrono::system_clock::from_time_t(timegm(&utc)) + std::chrono::microseconds(micros);
}

// When the API server received the request / finished answering it.
inline std::chrono::system_clock::time_point received(const json& event) {
  return micro_time(event.value("requestReceivedTimestamp", ""));
}
inline std::chrono::system_clock::time_point finished(const json& event) {
  return micro_time(event.value("stageTimestamp", ""));
}

}  // namespace cpo::testing::audit
