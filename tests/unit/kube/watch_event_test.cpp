#include <catch2/catch.hpp>

#include "kube/watch_event.hpp"

using namespace cpo::kube;

namespace {
std::string event_line(const char* type, const std::string& name, std::size_t padding = 0) {
  nlohmann::json e = {{"type", type},
                      {"object", {{"kind", "ConfigMap"}, {"metadata", {{"name", name}}},
                                  {"data", {{"pad", std::string(padding, 'p')}}}}}};
  return e.dump() + "\n";
}
}  // namespace

TEST_CASE("Whole events in one piece", "[watch]") {
  WatchFramer framer;
  auto events = framer.feed(event_line("ADDED", "a") + event_line("MODIFIED", "a") + event_line("DELETED", "a"));
  REQUIRE(events.size() == 3);
  CHECK(events[0].type == WatchEventType::Added);
  CHECK(events[1].type == WatchEventType::Modified);
  CHECK(events[2].type == WatchEventType::Deleted);
  CHECK(events[2].object["metadata"]["name"] == "a");
  CHECK(framer.pending_bytes() == 0);
}

TEST_CASE("Events split at every possible byte boundary", "[watch]") {
  const std::string stream = event_line("ADDED", "first") + event_line("BOOKMARK", "second");
  for (std::size_t cut = 0; cut <= stream.size(); ++cut) {
    WatchFramer framer;
    auto a = framer.feed(std::string_view(stream).substr(0, cut));
    auto b = framer.feed(std::string_view(stream).substr(cut));
    a.insert(a.end(), b.begin(), b.end());
    REQUIRE(a.size() == 2);
    CHECK(a[0].object["metadata"]["name"] == "first");
    CHECK(a[1].type == WatchEventType::Bookmark);
  }
}

TEST_CASE("Byte-by-byte delivery", "[watch]") {
  const std::string stream = event_line("ADDED", "x") + event_line("ERROR", "y");
  WatchFramer framer;
  std::vector<WatchEvent> all;
  for (char c : stream) {
    auto got = framer.feed(std::string_view(&c, 1));
    all.insert(all.end(), got.begin(), got.end());
  }
  REQUIRE(all.size() == 2);
  CHECK(all[1].type == WatchEventType::Error);
}

TEST_CASE("A huge event larger than any read buffer", "[watch]") {
  const std::string big = event_line("MODIFIED", "big", 5 << 20);  // ~5 MiB
  WatchFramer framer;
  std::vector<WatchEvent> all;
  for (std::size_t at = 0; at < big.size(); at += 64 * 1024) {
    auto got = framer.feed(std::string_view(big).substr(at, 64 * 1024));
    all.insert(all.end(), got.begin(), got.end());
  }
  REQUIRE(all.size() == 1);
  CHECK(all[0].object["data"]["pad"].get<std::string>().size() == std::size_t(5 << 20));
}

TEST_CASE("An event beyond the size limit is refused", "[watch]") {
  WatchFramer framer(1024);
  CHECK_THROWS_WITH(framer.feed(std::string(2000, '{')), Catch::Contains("larger than 1024"));
}

TEST_CASE("CRLF line ends and blank keep-alive lines", "[watch]") {
  WatchFramer framer;
  std::string line = event_line("ADDED", "crlf");
  line.insert(line.size() - 1, "\r");
  auto events = framer.feed("\n \n" + line + "\n");
  REQUIRE(events.size() == 1);
  CHECK(events[0].object["metadata"]["name"] == "crlf");
}

TEST_CASE("Malformed events are errors that say what is wrong", "[watch]") {
  WatchFramer framer;
  CHECK_THROWS_WITH(framer.feed("{not json}\n"), Catch::Contains("not a JSON object"));
  CHECK_THROWS_WITH(framer.feed("{\"type\":\"ADDED\"}\n"), Catch::Contains("needs \"type\" and \"object\""));
  CHECK_THROWS_WITH(framer.feed("{\"type\":\"SOMETHING\",\"object\":{}}\n"),
                    Catch::Contains("unknown watch event type \"SOMETHING\""));
}

TEST_CASE("A field mask keeps only its fields of the objects of ADDED, MODIFIED and DELETED events", "[watch]") {
  WatchFramer framer(WatchFramer::kDefaultMaxEventBytes, FieldMask{"metadata.name", "data"});
  const nlohmann::json object = {{"kind", "ConfigMap"},
                                 {"metadata", {{"name", "a"}, {"uid", "u-1"}, {"resourceVersion", "7"}}},
                                 {"data", {{"k", "v"}}}};
  std::string lines;
  for (const char* type : {"ADDED", "MODIFIED", "DELETED"}) {
    lines += nlohmann::json{{"type", type}, {"object", object}}.dump() + "\n";
  }
  const auto events = framer.feed(lines);
  REQUIRE(events.size() == 3);
  for (const auto& event : events) {
    CHECK(event.object == nlohmann::json{{"metadata", {{"name", "a"}}}, {"data", {{"k", "v"}}}});
  }
}

TEST_CASE("Bookmarks and errors come whole whatever the mask", "[watch]") {
  WatchFramer framer(WatchFramer::kDefaultMaxEventBytes, FieldMask{"metadata.name"});
  const nlohmann::json bookmark = {{"kind", "ConfigMap"}, {"metadata", {{"resourceVersion", "12"}}}};
  const nlohmann::json status = {{"kind", "Status"}, {"code", 410}, {"reason", "Expired"}, {"message", "too old"}};
  const auto events = framer.feed(nlohmann::json{{"type", "BOOKMARK"}, {"object", bookmark}}.dump() + "\n" +
                                  nlohmann::json{{"type", "ERROR"}, {"object", status}}.dump() + "\n");
  REQUIRE(events.size() == 2);
  CHECK(events[0].object == bookmark);
  CHECK(events[1].type == WatchEventType::Error);
  CHECK(events[1].object == status);
}

TEST_CASE("An event simdjson refuses but JSON allows decodes the same and is masked", "[watch]") {
  // An integer beyond 64 bits: a double to nlohmann::json, an error to simdjson.
  const std::string line =
      R"({"type":"MODIFIED","object":{"metadata":{"name":"a"},"spec":{"n":123456789012345678901234567890}}})";
  auto whole = parse_watch_event(line);
  CHECK(whole.object["spec"]["n"].is_number_float());
  auto masked = parse_watch_event(line, FieldMask{"metadata"});
  CHECK(masked.type == WatchEventType::Modified);
  CHECK(masked.object == nlohmann::json{{"metadata", {{"name", "a"}}}});
  CHECK_THROWS_WITH(parse_watch_event(R"({"type":"ADDED"})"), Catch::Contains("needs \"type\" and \"object\""));
  CHECK_THROWS_WITH(parse_watch_event(R"({"type":"RENAMED","object":{}})"), Catch::Contains("unknown watch event type"));
}
