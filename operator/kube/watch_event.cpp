#include "kube/watch_event.hpp"

#include <stdexcept>

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

WatchEvent parse_watch_event(std::string_view line) {
  auto doc = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) {
    throw std::runtime_error("malformed watch event (" + std::to_string(line.size()) +
                             " bytes): not a JSON object");
  }
  auto type = doc.find("type");
  auto object = doc.find("object");
  if (type == doc.end() || !type->is_string() || object == doc.end()) {
    throw std::runtime_error("malformed watch event: needs \"type\" and \"object\"");
  }
  const auto& name = type->get_ref<const std::string&>();
  WatchEvent event;
  if (name == "ADDED") event.type = WatchEventType::Added;
  else if (name == "MODIFIED") event.type = WatchEventType::Modified;
  else if (name == "DELETED") event.type = WatchEventType::Deleted;
  else if (name == "BOOKMARK") event.type = WatchEventType::Bookmark;
  else if (name == "ERROR") event.type = WatchEventType::Error;
  else throw std::runtime_error("unknown watch event type \"" + name + "\"");
  event.object = std::move(*object);
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
      events.push_back(parse_watch_event(line));
    }
    pending_.clear();
  }
  return events;
}

}  // namespace cpo::kube
