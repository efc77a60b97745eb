#include "kube/watch_event.hpp"

#include <stdexcept>

#include "kube/simdjson_decode.hpp"

namespace cpo::kube {

std::string_view to_string(WatchEventType type) {
  switch (type) {
    case WatchEventType::Added: return "ADDED";
    case WatchEventType::Modified: return "MODIFIED";
    case WatchEventType::Deleted: return "DELETED";
    case WatchEventType::Bookmark: return "BOOKMARK";
    case WatchEventType::Error: return "ERROR";
  }
  return "ERROR";
}

namespace {

WatchEventType event_type(std::string_view name) {
  if (name == "ADDED") return WatchEventType::Added;
  if (name == "MODIFIED") return WatchEventType::Modified;
  if (name == "DELETED") return WatchEventType::Deleted;
  if (name == "BOOKMARK") return WatchEventType::Bookmark;
  if (name == "ERROR") return WatchEventType::Error;
  throw std::runtime_error("unknown watch event type \"" + std::string(name) + "\"");
}

bool carries_object(WatchEventType type) {
  return type == WatchEventType::Added || type == WatchEventType::Modified || type == WatchEventType::Deleted;
}

[[noreturn]] void malformed(std::string_view line) {
  throw std::runtime_error("malformed watch event (" + std::to_string(line.size()) + " bytes): not a JSON object");
}

// For what simdjson refuses but JSON allows (an integer beyond 64 bits, say).
WatchEvent parse_with_nlohmann(std::string_view line, const FieldMask& object_fields) {
  auto doc = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) malformed(line);
  auto type = doc.find("type");
  auto object = doc.find("object");
  if (type == doc.end() || !type->is_string() || object == doc.end()) {
    throw std::runtime_error("malformed watch event: needs \"type\" and \"object\"");
  }
  WatchEvent event;
  event.type = event_type(type->get_ref<const std::string&>());
  event.object = std::move(*object);
  if (carries_object(event.type)) object_fields.prune(event.object);
  return event;
}

}  // namespace

WatchEvent parse_watch_event(std::string_view line, const FieldMask& object_fields) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(line.data(), line.size()).get(doc) != simdjson::SUCCESS) {
    return parse_with_nlohmann(line, object_fields);
  }
  if (!doc.is_object()) malformed(line);
  std::string_view type;
  simdjson::dom::element object;
  if (doc["type"].get_string().get(type) != simdjson::SUCCESS || doc["object"].get(object) != simdjson::SUCCESS) {
    throw std::runtime_error("malformed watch event: needs \"type\" and \"object\"");
  }
  WatchEvent event;
  event.type = event_type(type);
  static const FieldMask kWhole;  // bookmarks and errors: no copy of the mask per event
  event.object = detail::to_json(object, carries_object(event.type) ? object_fields : kWhole);
  return event;
}

std::vector<WatchEvent> WatchFramer::feed(std::string_view bytes) {
  std::vector<WatchEvent> events;
  while (!bytes.empty()) {
    auto newline = bytes.find('\n');
    std::string_view piece = bytes.substr(0, newline);
    if (pending_.size() + piece.size() > max_event_bytes_) {
      pending_.clear();
      throw std::runtime_error("watch event larger than " + std::to_string(max_event_bytes_) +
                               " bytes");
    }
    if (newline == std::string_view::npos) {
      pending_.append(piece);
      break;
    }
    bytes.remove_prefix(newline + 1);
    std::string_view line = piece;
    if (!pending_.empty()) {
      pending_.append(piece);
      line = pending_;
    }
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find_first_not_of(" \t") != std::string_view::npos) {
      events.push_back(parse_watch_event(line, object_fields_));
    }
    pending_.clear();
  }
  return events;
}

}  // namespace cpo::kube
