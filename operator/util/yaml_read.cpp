// The JSON values are built from libyaml's events with an explicit stack of open
// collections, so nothing here recurses. Limits are checked on the event that would
// break them: a collection start (depth), a document start (count), an alias (the
// nodes and scalar bytes its copy adds), an anchored node (what anchors keep).
#include "util/yaml_read.hpp"

#include <yaml.h>

#include <algorithm>
#include <map>
#include <optional>
#include <type_traits>
#include <unordered_set>
#include <utility>

#include "util/utf8.hpp"
#include "util/yaml_scalar.hpp"

namespace cpo::util {
namespace {

using namespace yaml_detail;

std::string with_location(const std::string& message, int line, int column) {
  if (line <= 0) return message;
  return message + " (line " + std::to_string(line) + ", column " + std::to_string(column) + ")";
}

YamlError error_at(const std::string& message, const yaml_mark_t& mark) {
  return YamlError(message, static_cast<int>(mark.line) + 1, static_cast<int>(mark.column) + 1);
}

// The text at `offset` up to the end of its line (at most `length` bytes), printable ASCII
// kept and anything else escaped: safe in any message.
std::string excerpt(std::string_view text, std::size_t offset, std::size_t length = 20) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = offset; i < text.size() && i < offset + length && text[i] != '\n'; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
      out += static_cast<char>(c);
    } else {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0x0f];
    }
  }
  return out;
}

// The byte offset of a mark: libyaml counts lines and, within a line, characters
// (its `index` counts characters too, not bytes, so it cannot index the text).
std::size_t byte_offset(std::string_view text, const yaml_mark_t& mark) {
  std::size_t i = 0;
  for (std::size_t line = 0; line < mark.line && i < text.size(); ++i) {
    if (text[i] == '\n' || (text[i] == '\r' && (i + 1 == text.size() || text[i + 1] != '\n'))) ++line;
  }
  for (std::size_t column = 0; column < mark.column && i < text.size(); ++column) {
    i += std::max<std::size_t>(1, utf8_sequence_length(text.substr(i)));
  }
  return std::min(i, text.size());
}

YamlError parser_error(const yaml_parser_t& parser, std::string_view text) {
  std::string message = "invalid YAML: ";
  message += parser.problem != nullptr ? parser.problem : "cannot be parsed";
  if (parser.error == YAML_READER_ERROR) {
    return YamlError(message + " at byte " + std::to_string(parser.problem_offset), 0, 0);
  }
  if (parser.error == YAML_MEMORY_ERROR) return YamlError(message, 0, 0);
  if (parser.context != nullptr) message += std::string(" ") + parser.context;
  const std::string at = excerpt(text, byte_offset(text, parser.problem_mark));
  if (!at.empty()) message += ", at \"" + at + "\"";
  return error_at(message, parser.problem_mark);
}

// One libyaml parser over a text, its events handed out one at a time.
class EventStream {
 public:
  explicit EventStream(std::string_view text) : text_(text) {
    yaml_parser_initialize(&parser_);
    yaml_parser_set_input_string(&parser_, reinterpret_cast<const unsigned char*>(text.data()), text.size());
  }
  ~EventStream() {
    if (has_event_) yaml_event_delete(&event_);
    yaml_parser_delete(&parser_);
  }
  EventStream(const EventStream&) = delete;
  EventStream& operator=(const EventStream&) = delete;

  const yaml_event_t& next() {
    if (has_event_) yaml_event_delete(&event_);
    has_event_ = false;
    if (yaml_parser_parse(&parser_, &event_) == 0) throw parser_error(parser_, text_);
    has_event_ = true;
    return event_;
  }

 private:
  std::string_view text_;
  yaml_parser_t parser_{};
  yaml_event_t event_{};
  bool has_event_ = false;
};

std::string_view c_text(const yaml_char_t* text) {
  return text == nullptr ? std::string_view() : std::string_view(reinterpret_cast<const char*>(text));
}

// Adds a member known to be new, without a search (ordered_json's own insertion
// searches linearly: quadratic for large mappings).
template <class J>
void append(J& object, std::string key, J value) {
  auto& members = object.template get_ref<typename J::object_t&>();
  if constexpr (std::is_same_v<J, nlohmann::ordered_json>) {
    members.emplace_back(std::move(key), std::move(value));
  } else {
    members.emplace(std::move(key), std::move(value));
  }
}

template <class J>
class Builder {
 public:
  explicit Builder(const YamlLimits& limits) : limits_(limits) {}

  std::vector<J> run(std::string_view text) {
    if (text.size() > limits_.max_bytes) {
      throw YamlError("the YAML text is " + std::to_string(text.size()) + " bytes; at most " +
                          std::to_string(limits_.max_bytes) + " bytes are read",
                      0, 0);
    }
    EventStream events(text);
    while (true) {
      const yaml_event_t& event = events.next();
      if (event.type == YAML_STREAM_END_EVENT) return std::move(documents_);
      on_event(event);
    }
  }

 private:
  // A node that is complete: its value, the nodes it holds (itself included), the
  // bytes of the scalars in it (keys included), and for a scalar the text it was
  // written as (a mapping key is that text).
  struct Node {
    J value;
    std::size_t nodes = 1;
    std::size_t bytes = 0;
    std::optional<std::string> key_text;
    yaml_mark_t mark{};  // where it starts
  };
  struct Open {  // a collection being read
    J value;
    std::string anchor;
    yaml_mark_t mark{};
    std::size_t nodes = 1;
    std::size_t bytes = 0;
    std::optional<std::string> key;  // a mapping's key waiting for its value
    std::unordered_set<std::string> keys;  // a mapping's keys so far
  };

  void on_event(const yaml_event_t& e);
  void start_document(const yaml_event_t& e);
  void open(J value, const yaml_char_t* anchor, const yaml_char_t* tag, std::string_view allowed_tag,
            const yaml_event_t& e);
  void close(const yaml_event_t& e);
  void scalar(const yaml_event_t& e);
  void alias(const yaml_event_t& e);
  void place(Node node);
  void remember(std::string_view anchor, const Node& node, const yaml_event_t& e);

  const YamlLimits& limits_;
  std::vector<J> documents_;
  std::vector<Open> open_;
  std::map<std::string, Node, std::less<>> anchors_;  // of the current document
  std::size_t alias_nodes_ = 0;
  std::size_t alias_bytes_ = 0;
  std::size_t anchored_nodes_ = 0;
  std::size_t anchored_bytes_ = 0;
};

template <class J>
void Builder<J>::on_event(const yaml_event_t& e) {
  switch (e.type) {
    case YAML_DOCUMENT_START_EVENT: return start_document(e);
    case YAML_SEQUENCE_START_EVENT:
      return open(J::array(), e.data.sequence_start.anchor, e.data.sequence_start.tag, kTagSeq, e);
    case YAML_MAPPING_START_EVENT:
      return open(J::object(), e.data.mapping_start.anchor, e.data.mapping_start.tag, kTagMap, e);
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT: return close(e);
    case YAML_SCALAR_EVENT: return scalar(e);
    case YAML_ALIAS_EVENT: return alias(e);
    default: return;  // stream start, document end, no event
  }
}

template <class J>
void Builder<J>::start_document(const yaml_event_t& e) {
  if (documents_.size() >= limits_.max_documents) {
    throw error_at("the YAML text holds more than " + std::to_string(limits_.max_documents) + " documents",
                   e.start_mark);
  }
  anchors_.clear();
  documents_.emplace_back(nullptr);
}

template <class J>
void Builder<J>::open(J value, const yaml_char_t* anchor, const yaml_char_t* tag, std::string_view allowed_tag,
                      const yaml_event_t& e) {
  const std::string_view t = c_text(tag);
  if (!t.empty() && t != "!" && t != allowed_tag) throw error_at("unsupported YAML tag " + std::string(t), e.start_mark);
  if (open_.size() >= limits_.max_depth) {
    throw error_at("YAML nesting deeper than " + std::to_string(limits_.max_depth) + " levels",
                   e.start_mark);
  }
  open_.push_back(Open{std::move(value), std::string(c_text(anchor)), e.start_mark, 1, 0, std::nullopt, {}});
}

template <class J>
void Builder<J>::close(const yaml_event_t& e) {
  Open done = std::move(open_.back());
  open_.pop_back();
  Node node{std::move(done.value), done.nodes, done.bytes, std::nullopt, done.mark};
  if (!done.anchor.empty()) remember(done.anchor, node, e);
  place(std::move(node));
}

template <class J>
void Builder<J>::scalar(const yaml_event_t& e) {
  const auto& s = e.data.scalar;
  const std::string_view text(reinterpret_cast<const char*>(s.value), s.length);
  const bool plain = s.style == YAML_PLAIN_SCALAR_STYLE;
  std::string error;
  std::optional<J> value = scalar_value<J>(text, c_text(s.tag), plain, &error);
  if (!value) throw error_at(error, e.start_mark);
  Node node{std::move(*value), 1, text.size(), std::string(text), e.start_mark};
  if (s.anchor != nullptr) remember(c_text(s.anchor), node, e);
  place(std::move(node));
}

template <class J>
void Builder<J>::alias(const yaml_event_t& e) {
  const std::string_view name = c_text(e.data.alias.anchor);
  const auto it = anchors_.find(name);
  if (it == anchors_.end()) {
    for (const Open& o : open_) {
      if (o.anchor == name) throw error_at("an alias refers to the node that contains it", e.start_mark);
    }
    throw error_at("unknown alias *" + std::string(name.substr(0, 60)), e.start_mark);
  }
  alias_nodes_ += it->second.nodes;
  alias_bytes_ += it->second.bytes;
  if (alias_nodes_ > limits_.max_alias_nodes) {
    throw error_at("YAML aliases expand beyond " + std::to_string(limits_.max_alias_nodes) +
                       " nodes; write the values out",
                   e.start_mark);
  }
  if (alias_bytes_ > limits_.max_alias_bytes) {
    throw error_at("YAML aliases expand beyond " + std::to_string(limits_.max_alias_bytes) +
                       " bytes of text; write the values out",
                   e.start_mark);
  }
  Node copy = it->second;
  copy.mark = e.start_mark;
  place(std::move(copy));
}

// Anchored values are copied (an alias copies them again): their size is bounded too,
// by ten times what aliases may add.
template <class J>
void Builder<J>::remember(std::string_view anchor, const Node& node, const yaml_event_t& e) {
  anchored_nodes_ += node.nodes;
  anchored_bytes_ += node.bytes;
  if (anchored_nodes_ > 10 * limits_.max_alias_nodes) {
    throw error_at("YAML anchors hold more than " + std::to_string(10 * limits_.max_alias_nodes) + " nodes",
                   e.start_mark);
  }
  if (anchored_bytes_ > 10 * limits_.max_alias_bytes) {
    throw error_at("YAML anchors hold more than " + std::to_string(10 * limits_.max_alias_bytes) +
                       " bytes of text",
                   e.start_mark);
  }
  anchors_.insert_or_assign(std::string(anchor), node);
}

// Puts a complete node where it belongs: the document, a sequence, or a mapping (as
// its next key, or as the value of the waiting key).
template <class J>
void Builder<J>::place(Node node) {
  if (open_.empty()) {
    documents_.back() = std::move(node.value);
    return;
  }
  Open& parent = open_.back();
  parent.nodes += node.nodes;
  parent.bytes += node.bytes;
  if (parent.value.is_array()) {
    parent.value.push_back(std::move(node.value));
  } else if (!parent.key) {
    if (!node.key_text) throw error_at("a mapping key must be a scalar, not a collection", node.mark);
    if (node.value.is_null()) throw error_at("a mapping key must not be null", node.mark);
    if (!parent.keys.insert(*node.key_text).second) {
      throw error_at("duplicate key \"" + excerpt(*node.key_text, 0, 80) + "\"", node.mark);
    }
    parent.key = std::move(node.key_text);
  } else {
    append(parent.value, std::move(*parent.key), std::move(node.value));
    parent.key.reset();
  }
}

}  // namespace

YamlError::YamlError(const std::string& message, int line, int column)
    : std::runtime_error(with_location(message, line, column)), line_(line), column_(column) {}

std::vector<nlohmann::json> read_yaml(std::string_view text, const YamlLimits& limits) {
  return Builder<nlohmann::json>(limits).run(text);
}

std::vector<nlohmann::ordered_json> read_yaml_ordered(std::string_view text, const YamlLimits& limits) {
  return Builder<nlohmann::ordered_json>(limits).run(text);
}

}  // namespace cpo::util
