// The checks made on the raw text before the YAML parser sees it. The parser recurses
// once or twice per nesting level, so documents that are too large or nest too deeply
// are refused here, in one linear pass that keeps no per-level state beyond an
// indentation stack. (Aliases are bounded after this pass, on the parser's events:
// parse.cpp.)
//
// Scalars may span lines: a quoted scalar is followed to its closing quote, and a more
// indented line after a plain value is that value's continuation, which the parser
// reads as text, unless it holds ": " (then it is scanned as structure, so that no
// nesting can hide in it).
#include "deviceplugin/detail.hpp"

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

namespace cpo::deviceplugin::detail {
namespace {

bool is_blank(char c) { return c == ' ' || c == '\t'; }

bool is_flow_indicator(char c) { return c == ',' || c == '[' || c == ']' || c == '{' || c == '}'; }

int column_of(std::size_t index) { return static_cast<int>(index) + 1; }

// Whether a line holds ": " (or ends in ':'), which ends a plain scalar going on from
// the line before: the parser then reads structure there.
bool holds_mapping_indicator(std::string_view rest) {
  for (std::size_t i = 0; i < rest.size(); ++i) {
    if (rest[i] == ':' && (i + 1 == rest.size() || is_blank(rest[i + 1]))) return true;
  }
  return false;
}

// What may follow '|' or '>' on the line that opens a block scalar: chomping and
// indentation indicators, then blanks and an optional comment.
bool is_block_scalar_header(std::string_view rest) {
  std::size_t i = 0;
  while (i < rest.size() && i < 2 &&
         (rest[i] == '-' || rest[i] == '+' || (rest[i] >= '1' && rest[i] <= '9')))
    ++i;
  if (i == rest.size()) return true;
  if (!is_blank(rest[i])) return false;
  while (i < rest.size() && is_blank(rest[i])) ++i;
  return i == rest.size() || rest[i] == '#';
}

class TextScanner {
 public:
  std::optional<ScanFinding> run(std::string_view text);

 private:
  std::optional<ScanFinding> scan_line(std::string_view line, int line_no);
  bool in_block_scalar(std::string_view line, std::size_t indent);
  std::optional<ScanFinding> scan_content(std::string_view line, std::size_t i, int line_no,
                                          bool continued = false);
  std::optional<ScanFinding> check_depth(int line_no, std::size_t index) const;
  std::size_t skip_quoted(std::string_view line, std::size_t i);

  int flow_depth_ = 0;
  std::vector<int> indents_;  // indentation of the open block levels
  int extra_ = 0;             // "- " and "? " indicators on the current line: one level each
  // A block scalar (| or >): the indentation of the line that opened it, and the
  // indentation of its content once known.
  int block_scalar_parent_ = -1;
  int block_scalar_indent_ = -1;
  bool node_start_ = false;  // the next character starts a token
  bool json_node_ = false;   // the last token was a quoted scalar or a closed flow collection
  char open_quote_ = 0;          // the quote of a quoted scalar that continues on the next line
  int quote_line_ = 0;           // ... and the line it opened on
  bool seen_document_ = false;   // a "---" or content was seen
  int directive_line_ = 0;       // a directive (%YAML, %TAG) waits for its "---" (0 = none)
  // The current block line holds a complete value; a more indented line after it would
  // continue that value.
  bool ended_in_value_ = false;
  bool ended_in_plain_ = false;  // ... and that value was a plain scalar
  bool value_ = false;           // on the current line
  bool plain_ = false;
  int entry_indent_ = 0;  // column of the innermost block entry on the current line
};

std::optional<ScanFinding> TextScanner::run(std::string_view text) {
  int line_no = 0;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (auto finding = scan_line(line, ++line_no)) return finding;
    pos = end + 1;
  }
  if (open_quote_ != 0) {
    return ScanFinding{"invalid YAML: the quoted scalar opened on line " + std::to_string(quote_line_) +
                           " is never closed (the consumers' parser: found unexpected end of stream)",
                       line_no, 1};
  }
  if (directive_line_ != 0) {
    return ScanFinding{"invalid YAML: the directive on line " + std::to_string(directive_line_) +
                           " must be followed by a document start (---) (the consumers' parser: did not "
                           "find expected <document start>)",
                       directive_line_, 1};
  }
  return std::nullopt;
}

std::optional<ScanFinding> TextScanner::check_depth(int line_no, std::size_t index) const {
  const int depth = static_cast<int>(indents_.size()) + extra_ + flow_depth_;
  if (depth <= kMaxNestingDepth) return std::nullopt;
  return ScanFinding{"the config nests deeper than " + std::to_string(kMaxNestingDepth) +
                         " levels; refusing to parse it",
                     line_no, column_of(index)};
}

// Past the quoted scalar that is open at `i` (open_quote_ set): the index after its
// closing quote, or line.size() with open_quote_ still set when it goes on.
std::size_t TextScanner::skip_quoted(std::string_view line, std::size_t i) {
  const char quote_char = open_quote_;
  for (; i < line.size(); ++i) {
    if (quote_char == '"' && line[i] == '\\') {
      ++i;
    } else if (line[i] == quote_char) {
      if (quote_char == '\'' && i + 1 < line.size() && line[i + 1] == '\'') {
        ++i;
      } else {
        open_quote_ = 0;
        return i + 1;
      }
    }
  }
  return line.size();
}

// Whether the line belongs to the open block scalar (and holds no structure).
bool TextScanner::in_block_scalar(std::string_view line, std::size_t indent) {
  if (block_scalar_parent_ < 0) return false;
  std::size_t first = indent;
  while (first < line.size() && is_blank(line[first])) ++first;
  if (first == line.size()) return true;  // blank lines belong to the scalar
  const int n = static_cast<int>(indent);
  if (block_scalar_indent_ < 0 && n > block_scalar_parent_) block_scalar_indent_ = n;
  if (block_scalar_indent_ >= 0 && n >= block_scalar_indent_) return true;
  block_scalar_parent_ = -1;
  block_scalar_indent_ = -1;
  return false;
}

std::optional<ScanFinding> TextScanner::scan_line(std::string_view line, int line_no) {
  std::size_t indent = 0;
  while (indent < line.size() && line[indent] == ' ') ++indent;
  if (in_block_scalar(line, indent)) return std::nullopt;

  std::size_t i = 0;
  extra_ = 0;
  if (open_quote_ != 0) {  // a quoted scalar goes on: the line is text up to its end
    i = skip_quoted(line, 0);
    if (open_quote_ != 0) return std::nullopt;
    json_node_ = true;
    node_start_ = true;
    return scan_content(line, i, line_no, true);
  }
  if (flow_depth_ > 0) {
    // Inside [...] or {...} over several lines: brackets still count, a plain scalar
    // may go on (flow indicators end it).
    while (i < line.size() && is_blank(line[i])) ++i;
    if (i == line.size()) return std::nullopt;
  } else {
    i = indent;
    while (i < line.size() && is_blank(line[i])) ++i;
    if (i == line.size() || line[i] == '#') return std::nullopt;  // blank or comment
    if (line[0] == '%') {                                         // a directive such as %YAML 1.2
      ended_in_value_ = false;
      if (line.substr(0, 6) == "%YAML " && line.substr(6, 3) != "1.1") {
        return ScanFinding{"the consumers' YAML 1.1 parser refuses " + readable(line.substr(0, 16)) +
                               " (found incompatible YAML document); write %YAML 1.1 or nothing",
                           line_no, 1};
      }
      if (directive_line_ == 0) directive_line_ = line_no;
      return std::nullopt;
    }
    const int line_indent = static_cast<int>(indent);
    if (ended_in_value_ && ended_in_plain_ && line_indent > entry_indent_ &&
        !holds_mapping_indicator(line.substr(i))) {
      return std::nullopt;  // the plain value goes on: text to the parser
    }
    const bool marker = indent == 0 && line.size() >= 3 &&
                        (line.substr(0, 3) == "---" || line.substr(0, 3) == "...") &&
                        (line.size() == 3 || is_blank(line[3]));
    if (directive_line_ != 0 && !(marker && line[0] == '-')) {
      return ScanFinding{"invalid YAML: the directive on line " + std::to_string(directive_line_) +
                             " must be followed by a document start (---) (the consumers' parser: did not "
                             "find expected <document start>)",
                         line_no, static_cast<int>(i) + 1};
    }
    directive_line_ = 0;
    if (marker && line[0] == '.' && !seen_document_) {
      return ScanFinding{"invalid YAML: a document end marker (...) with no document before it "
                         "(the consumers' parser: did not find expected node content)",
                         line_no, 1};
    }
    seen_document_ = true;
    if (marker) {
      indents_.clear();
      i = 3;
    } else {
      while (!indents_.empty() && indents_.back() > line_indent) indents_.pop_back();
      if (indents_.empty() || indents_.back() < line_indent) indents_.push_back(line_indent);
    }
    entry_indent_ = line_indent;
    node_start_ = true;
    if (auto finding = check_depth(line_no, i)) return finding;
  }
  return scan_content(line, i, line_no);
}

std::optional<ScanFinding> TextScanner::scan_content(std::string_view line, std::size_t i,
                                                     int line_no, bool continued) {
  value_ = continued;  // the last token on the line was a value
  plain_ = false;      // ... a plain scalar
  for (; i < line.size(); ++i) {
    const char c = line[i];
    if (is_blank(c)) continue;
    // A comment starts after a blank or where a token could start (the parser drops
    // "#..." right after a quoted scalar or a flow collection, too).
    if (c == '#' && (node_start_ || i == 0 || is_blank(line[i - 1]))) {
      node_start_ = true;  // a comment ends a plain scalar
      plain_ = false;
      break;
    }
    const bool next_blank = i + 1 >= line.size() || is_blank(line[i + 1]);
    const bool after_json_node = json_node_;  // right after a quoted scalar or ']' / '}'
    json_node_ = false;

    if (node_start_) {
      switch (c) {
        case '"':
        case '\'': {  // a quoted scalar, which must end on this line
          open_quote_ = c;
          quote_line_ = line_no;
          i = skip_quoted(line, i + 1);
          value_ = true;
          json_node_ = true;
          plain_ = false;
          if (open_quote_ != 0) return std::nullopt;  // it goes on on the next line
          --i;
          continue;  // the next character starts a token again
        }
        case '&':  // an anchor: the node follows
        case '*':  // an alias: a whole node
          while (i + 1 < line.size() && !is_blank(line[i + 1]) && !is_flow_indicator(line[i + 1])) ++i;
          if (c == '*') {
            value_ = true;
            plain_ = false;
            node_start_ = false;
            json_node_ = true;
          }
          continue;
        case '!':  // a tag: the node itself follows
          while (i + 1 < line.size() && !is_blank(line[i + 1])) ++i;
          continue;
        case '[':
        case '{':
          ++flow_depth_;
          value_ = false;
          if (auto finding = check_depth(line_no, i)) return finding;
          continue;
        case '-':
        case '?':
          if (next_blank && flow_depth_ > 0) {
            if (c == '?') continue;  // an explicit key in a flow collection
            return ScanFinding{"invalid YAML: a \"- \" entry inside a flow collection", line_no,
                               column_of(i)};
          }
          if (next_blank) {
            ++extra_;
            std::size_t next = i + 1;
            while (next < line.size() && is_blank(line[next])) ++next;
            entry_indent_ = static_cast<int>(next);
            if (auto finding = check_depth(line_no, i)) return finding;
            continue;
          }
          break;
        case '|':
        case '>':
          if (flow_depth_ == 0 && is_block_scalar_header(line.substr(i + 1))) {
            block_scalar_parent_ = entry_indent_;
            block_scalar_indent_ = -1;
            ended_in_value_ = false;
            return std::nullopt;
          }
          break;
        default:
          break;
      }
    }
    if (flow_depth_ > 0) {
      if (c == '[' || c == '{') {
        ++flow_depth_;
        if (auto finding = check_depth(line_no, i)) return finding;
        continue;
      }
      if (c == ']' || c == '}') {
        --flow_depth_;
        node_start_ = true;
        value_ = true;
        plain_ = false;
        json_node_ = true;
        continue;
      }
      if (c == ',') {
        node_start_ = true;
        continue;
      }
    }
    // ':' ends a key when a blank follows; in a flow collection also right after a
    // quoted key or a collection ({"a":1}) and before an indicator.
    const bool flow_value =
        flow_depth_ > 0 && (after_json_node || (!next_blank && is_flow_indicator(line[i + 1])));
    if (c == ':' && (next_blank || flow_value)) {
      node_start_ = true;
      value_ = false;
      plain_ = false;
      continue;
    }
    node_start_ = false;  // inside a plain scalar
    value_ = true;
    plain_ = true;
  }
  if (flow_depth_ == 0) {
    ended_in_value_ = value_;
    ended_in_plain_ = plain_;
  }
  return std::nullopt;
}

}  // namespace

namespace {

// The first character the consumers' YAML reader refuses: malformed UTF-8, or a code
// point outside YAML's printable set (tab, LF, CR, U+0020-U+007E, U+0085,
// U+00A0-U+D7FF, U+E000-U+FFFD, U+10000 and up; a byte order mark first is fine).
std::optional<ScanFinding> unreadable_character(std::string_view text) {
  int line = 1, column = 1;
  std::size_t i = text.substr(0, 3) == "\xEF\xBB\xBF" ? 3 : 0;
  while (i < text.size()) {
    const std::size_t length = utf8_sequence_length(text.substr(i));
    if (length == 0) {
      return ScanFinding{"invalid YAML: malformed UTF-8 (the consumers' parser refuses the file)", line, column};
    }
    const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[i + k]) & 0x3fu; };
    const unsigned lead = static_cast<unsigned char>(text[i]);
    unsigned code = lead;
    if (length == 2) code = ((lead & 0x1fu) << 6) | byte(1);
    if (length == 3) code = ((lead & 0x0fu) << 12) | (byte(1) << 6) | byte(2);
    if (length == 4) code = ((lead & 0x07u) << 18) | (byte(1) << 12) | (byte(2) << 6) | byte(3);
    const bool printable = code == 0x09 || code == 0x0a || code == 0x0d || (code >= 0x20 && code <= 0x7e) ||
                           code == 0x85 || (code >= 0xa0 && code <= 0xd7ff) || (code >= 0xe000 && code <= 0xfffd) ||
                           code >= 0x10000;
    if (!printable) {
      char hex[16];
      std::snprintf(hex, sizeof hex, "U+%04X", code);
      return ScanFinding{std::string("invalid YAML: the control character ") + hex +
                             " (the consumers' parser: control characters are not allowed)",
                         line, column};
    }
    if (code == 0x0a) {
      ++line;
      column = 1;
    } else {
      ++column;
    }
    i += length;
  }
  return std::nullopt;
}

}  // namespace

std::optional<ScanFinding> prescan(std::string_view text) {
  if (text.size() > kMaxDocumentBytes) {
    return ScanFinding{"the config is " + std::to_string(text.size()) + " bytes; at most " +
                           std::to_string(kMaxDocumentBytes) + " bytes are accepted",
                       0, 0};
  }
  if (auto finding = unreadable_character(text)) return finding;
  return TextScanner{}.run(text);
}

}  // namespace cpo::deviceplugin::detail
