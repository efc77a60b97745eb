// Watch events and the framing of a watch response body.
//
// A watch answer is a chunked HTTP body holding one JSON object per line. The
// bytes arrive in arbitrary pieces: a read may end mid-event, hold several events,
// or be a small slice of one event many megabytes long. WatchFramer turns the
// pieces back into whole events.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "kube/field_mask.hpp"

namespace cpo::kube {

enum class WatchEventType { Added, Modified, Deleted, Bookmark, Error };

std::string_view to_string(WatchEventType type);

struct WatchEvent {
  WatchEventType type = WatchEventType::Added;
  nlohmann::json object;  // the object; for Error, a Status
};

// Parses one line of a watch body, keeping only `object_fields` of the object of an
// ADDED, MODIFIED or DELETED event (bookmarks and errors come whole). Throws
// std::runtime_error on malformed JSON or an unknown event type, naming what was wrong.
WatchEvent parse_watch_event(std::string_view line, const FieldMask& object_fields = {});

class WatchFramer {
 public:
  // An event larger than this is refused (a runaway stream must not exhaust memory).
  static constexpr std::size_t kDefaultMaxEventBytes = 128u << 20;

  explicit WatchFramer(std::size_t max_event_bytes = kDefaultMaxEventBytes, FieldMask object_fields = {})
      : max_event_bytes_(max_event_bytes), object_fields_(std::move(object_fields)) {}

  // Appends bytes and returns every event completed by them, in order. Blank lines
  // are skipped. Throws std::runtime_error when an event exceeds the size limit or
  // does not parse.
  std::vector<WatchEvent> feed(std::string_view bytes);

  // Bytes of an unfinished event held so far.
  std::size_t pending_bytes() const { return pending_.size(); }

 private:
  std::size_t max_event_bytes_;
  FieldMask object_fields_;
  std::string pending_;
};

}  // namespace cpo::kube
