#include "apimachinery/yaml_json.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <stdexcept>

#include "util/yaml_read.hpp"

namespace cpo::apimachinery {

namespace {

template <class J>
J single_document(std::vector<J> documents) {
  if (documents.empty()) return J(nullptr);
  if (documents.size() > 1) {
    throw YamlError("expected one YAML document, found " + std::to_string(documents.size()), 0, 0);
  }
  return std::move(documents.front());
}

// ---------------------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------------------

bool is_digit(char c) { return c >= '0' && c <= '9'; }

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Would a plain scalar with this text read back as something other than a string under
// YAML 1.2 or 1.1? Errs on the side of quoting (e.g. "1.2.3", "2024-01-01").
bool reads_as_non_string(std::string_view s) {
  static constexpr std::array<std::string_view, 16> kWords = {
      "null", "~", "true", "false", "yes", "no", "on", "off", "y", "n",
      ".inf", "+.inf", "-.inf", ".nan", "=", "<<"};
  const std::string folded = lower(s);
  if (std::find(kWords.begin(), kWords.end(), folded) != kWords.end()) return true;

  std::size_t i = (s.front() == '-' || s.front() == '+') ? 1 : 0;
  if (i >= s.size() || !(is_digit(s[i]) || s[i] == '.')) return false;
  // Digits, radix prefixes, exponents, separators of YAML 1.1 numbers, dates and times.
  return std::all_of(s.begin() + static_cast<std::ptrdiff_t>(i), s.end(), [](char c) {
    return std::isxdigit(static_cast<unsigned char>(c)) != 0 ||
           std::string_view("xXoObB._:+-").find(c) != std::string_view::npos;
  });
}

constexpr char kHex[] = "0123456789abcdef";

// The escape of the code point starting at s[i] when YAML cannot carry it raw in a
// scalar: the C1 controls (U+0080-U+009F), the line breaks NEL, LS and PS, the
// byte-order mark and U+FFFE/U+FFFF. `length` is set to its bytes. Empty otherwise.
std::string unicode_escape(std::string_view s, std::size_t i, std::size_t* length) {
  auto at = [&](std::size_t k) { return i + k < s.size() ? static_cast<unsigned char>(s[i + k]) : 0u; };
  if (at(0) == 0xC2 && at(1) >= 0x80 && at(1) <= 0x9F) {
    *length = 2;
    if (at(1) == 0x85) return "\\N";
    return std::string("\\x") + kHex[at(1) >> 4] + kHex[at(1) & 0x0f];
  }
  *length = 3;
  if (at(0) == 0xE2 && at(1) == 0x80 && at(2) == 0xA8) return "\\L";
  if (at(0) == 0xE2 && at(1) == 0x80 && at(2) == 0xA9) return "\\P";
  if (at(0) == 0xEF && at(1) == 0xBB && at(2) == 0xBF) return "\\uFEFF";
  if (at(0) == 0xEF && at(1) == 0xBF && at(2) == 0xBE) return "\\uFFFE";
  if (at(0) == 0xEF && at(1) == 0xBF && at(2) == 0xBF) return "\\uFFFF";
  *length = 0;
  return {};
}

bool has_unicode_to_escape(std::string_view s) {
  std::size_t length = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (!unicode_escape(s, i, &length).empty()) return true;
  }
  return false;
}

bool has_control_character(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7f;
  }) || has_unicode_to_escape(s);
}

bool needs_quotes(std::string_view s) {
  if (s.empty() || reads_as_non_string(s) || has_control_character(s)) return true;
  // "-" starts a plain scalar ("--flag") unless a blank or nothing follows it.
  if (s.front() == '-') {
    if (s.size() == 1 || s[1] == ' ' || s.substr(0, 3) == "---") return true;
  } else if (std::string_view("?:,[]{}#&*!|>'\"%@` ").find(s.front()) != std::string_view::npos) {
    return true;
  }
  if (s.back() == ' ' || s.back() == ':') return true;
  if (s.find(": ") != std::string_view::npos || s.find(" #") != std::string_view::npos) return true;
  return s.substr(0, 3) == "...";
}

std::string double_quoted(std::string_view s) {
  std::string out = "\"";
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    auto u = static_cast<unsigned char>(c);
    std::size_t length = 0;
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      case '\0': out += "\\0"; break;
      default:
        if (u < 0x20 || u == 0x7f) {
          out += "\\x";
          out += kHex[u >> 4];
          out += kHex[u & 0x0f];
        } else if (std::string escape = unicode_escape(s, i, &length); !escape.empty()) {
          out += escape;
          i += length - 1;
        } else {
          out += c;
        }
    }
  }
  out += '"';
  return out;
}

std::string string_text(std::string_view s) {
  return needs_quotes(s) ? double_quoted(s) : std::string(s);
}

std::vector<std::string_view> split_lines(std::string_view s) {
  std::vector<std::string_view> lines;
  std::size_t start = 0;
  while (true) {
    std::size_t end = s.find('\n', start);
    if (end == std::string_view::npos) {
      lines.push_back(s.substr(start));
      return lines;
    }
    lines.push_back(s.substr(start, end - start));
    start = end + 1;
  }
}

// A multi-line string reads back unchanged from a literal block scalar unless it has
// control characters (or code points unicode_escape escapes), trailing blanks on a line, or a first line that starts with a blank
// (which would set the block's indentation).
bool fits_literal_block(std::string_view s) {
  if (s.find('\n') == std::string_view::npos || has_unicode_to_escape(s)) return false;
  if (std::all_of(s.begin(), s.end(), [](char c) { return c == '\n'; })) return false;
  bool first_content_line = true;
  for (std::string_view line : split_lines(s)) {
    if (std::any_of(line.begin(), line.end(), [](char c) {
          auto u = static_cast<unsigned char>(c);
          return (u < 0x20 && c != '\t') || u == 0x7f;
        })) {
      return false;
    }
    if (line.empty()) continue;
    if (line.back() == ' ' || line.back() == '\t') return false;
    if (first_content_line && (line.front() == ' ' || line.front() == '\t')) return false;
    first_content_line = false;
  }
  return true;
}

template <class J>
class Writer {
 public:
  std::string out;

  void document(const J& value) {
    if (value.is_object() && !value.empty()) {
      mapping(value, 0, false);
    } else if (value.is_array() && !value.empty()) {
      sequence(value, 0, false);
    } else if (value.is_string() && fits_literal_block(value.template get_ref<const std::string&>())) {
      literal_block(value.template get_ref<const std::string&>(), 2);
    } else {
      out += scalar_text(value);
      out += '\n';
    }
  }

 private:
  void indent(int columns) { out.append(static_cast<std::size_t>(columns), ' '); }

  static std::string scalar_text(const J& value) {
    switch (value.type()) {
      case nlohmann::json::value_t::null: return "null";
      case nlohmann::json::value_t::boolean: return value.template get<bool>() ? "true" : "false";
      case nlohmann::json::value_t::number_integer:
        return std::to_string(value.template get<std::int64_t>());
      case nlohmann::json::value_t::number_unsigned:
        return std::to_string(value.template get<std::uint64_t>());
      case nlohmann::json::value_t::number_float: {
        double d = value.template get<double>();
        if (std::isnan(d)) return ".nan";
        if (std::isinf(d)) return d > 0 ? ".inf" : "-.inf";
        return value.dump();
      }
      case nlohmann::json::value_t::string:
        return string_text(value.template get_ref<const std::string&>());
      case nlohmann::json::value_t::object: return "{}";
      case nlohmann::json::value_t::array: return "[]";
      case nlohmann::json::value_t::binary:
      case nlohmann::json::value_t::discarded: break;
    }
    throw std::invalid_argument("json_to_yaml: binary and discarded values have no YAML form");
  }

  // `|`, `|-` or `|+` (by the number of trailing newlines), then the lines at `columns`.
  void literal_block(std::string_view s, int columns) {
    std::size_t trailing = 0;
    while (trailing < s.size() && s[s.size() - 1 - trailing] == '\n') ++trailing;
    out += trailing == 0 ? "|-\n" : trailing == 1 ? "|\n" : "|+\n";
    for (std::string_view line : split_lines(s.substr(0, s.size() - trailing))) {
      if (!line.empty()) {
        indent(columns);
        out += line;
      }
      out += '\n';
    }
    if (trailing > 1) out.append(trailing - 1, '\n');
  }

  // After "key:" or "-": a scalar on the same line, or a literal block whose lines sit at
  // `block_columns`.
  void inline_scalar(const J& value, int block_columns) {
    out += ' ';
    if (value.is_string() && fits_literal_block(value.template get_ref<const std::string&>())) {
      literal_block(value.template get_ref<const std::string&>(), block_columns);
      return;
    }
    out += scalar_text(value);
    out += '\n';
  }

  void mapping(const J& object, int columns, bool first_on_current_line) {
    bool first = true;
    for (auto it = object.begin(); it != object.end(); ++it) {
      if (!(first && first_on_current_line)) indent(columns);
      first = false;
      out += string_text(it.key());
      out += ':';
      const J& value = it.value();
      if (value.is_object() && !value.empty()) {
        out += '\n';
        mapping(value, columns + 2, false);
      } else if (value.is_array() && !value.empty()) {
        out += '\n';
        sequence(value, columns, false);  // kubectl's layout: "- " at the key's column
      } else {
        inline_scalar(value, columns + 2);
      }
    }
  }

  void sequence(const J& array, int columns, bool first_on_current_line) {
    bool first = true;
    for (const J& item : array) {
      if (!(first && first_on_current_line)) indent(columns);
      first = false;
      out += '-';
      if (item.is_object() && !item.empty()) {
        out += ' ';
        mapping(item, columns + 2, true);
      } else if (item.is_array() && !item.empty()) {
        out += ' ';
        sequence(item, columns + 2, true);
      } else {
        inline_scalar(item, columns + 2);
      }
    }
  }
};

template <class J>
std::string write(const J& value) {
  Writer<J> writer;
  writer.document(value);
  return std::move(writer.out);
}

}  // namespace

nlohmann::json yaml_to_json(std::string_view yaml) { return single_document(util::read_yaml(yaml)); }

nlohmann::ordered_json yaml_to_ordered_json(std::string_view yaml) {
  return single_document(util::read_yaml_ordered(yaml));
}

std::vector<nlohmann::json> yaml_documents_to_json(std::string_view yaml) { return util::read_yaml(yaml); }

std::string json_to_yaml(const nlohmann::json& value) { return write(value); }

std::string json_to_yaml(const nlohmann::ordered_json& value) { return write(value); }

}  // namespace cpo::apimachinery
