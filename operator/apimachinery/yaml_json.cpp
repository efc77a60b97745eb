#include "apimachinery/yaml_json.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <stdexcept>

namespace cpo::apimachinery {

namespace {

std::string with_location(const std::string& message, int line, int column) {
  if (line <= 0) return message;
  return message + " (line " + std::to_string(line) + ", column " + std::to_string(column) + ")";
}

YamlError error_at(const std::string& message, const YAML::Mark& mark) {
  if (mark.is_null()) return YamlError(message, 0, 0);
  return YamlError(message, mark.line + 1, mark.column + 1);
}

// ---------------------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------------------

constexpr std::string_view kTagStr = "tag:yaml.org,2002:str";
constexpr std::string_view kTagInt = "tag:yaml.org,2002:int";
constexpr std::string_view kTagFloat = "tag:yaml.org,2002:float";
constexpr std::string_view kTagBool = "tag:yaml.org,2002:bool";
constexpr std::string_view kTagNull = "tag:yaml.org,2002:null";
constexpr std::string_view kTagMap = "tag:yaml.org,2002:map";
constexpr std::string_view kTagSeq = "tag:yaml.org,2002:seq";

bool is_digit(char c) { return c >= '0' && c <= '9'; }

bool all_digits(std::string_view s, int base) {
  if (s.empty()) return false;
  return std::all_of(s.begin(), s.end(), [base](char c) {
    if (base == 8) return c >= '0' && c <= '7';
    if (base == 16) return std::isxdigit(static_cast<unsigned char>(c)) != 0;
    return is_digit(c);
  });
}

std::optional<bool> parse_bool(std::string_view s) {
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  return std::nullopt;
}

// [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? plus the .inf/.nan spellings.
std::optional<double> parse_float(std::string_view s) {
  std::string_view body = s;
  bool negative = false;
  if (!body.empty() && (body.front() == '-' || body.front() == '+')) {
    negative = body.front() == '-';
    body.remove_prefix(1);
  }
  if (body == ".inf" || body == ".Inf" || body == ".INF") {
    return negative ? -std::numeric_limits<double>::infinity()
                    : std::numeric_limits<double>::infinity();
  }
  if (s == ".nan" || s == ".NaN" || s == ".NAN") return std::numeric_limits<double>::quiet_NaN();

  std::size_t i = 0;
  std::size_t int_digits = 0;
  while (i < body.size() && is_digit(body[i])) ++i, ++int_digits;
  std::size_t frac_digits = 0;
  if (i < body.size() && body[i] == '.') {
    ++i;
    while (i < body.size() && is_digit(body[i])) ++i, ++frac_digits;
  } else if (int_digits == 0) {
    return std::nullopt;
  }
  if (int_digits == 0 && frac_digits == 0) return std::nullopt;
  if (i < body.size() && (body[i] == 'e' || body[i] == 'E')) {
    ++i;
    if (i < body.size() && (body[i] == '-' || body[i] == '+')) ++i;
    std::size_t exp_digits = 0;
    while (i < body.size() && is_digit(body[i])) ++i, ++exp_digits;
    if (exp_digits == 0) return std::nullopt;
  }
  if (i != body.size()) return std::nullopt;

  double value = 0;
  auto [end, ec] = std::from_chars(body.data(), body.data() + body.size(), value);
  if (end != body.data() + body.size()) return std::nullopt;
  if (ec == std::errc::result_out_of_range) {
    // Overflow becomes infinity, underflow zero: the value YAML means, as near as a double gets.
    value = std::strtod(std::string(body).c_str(), nullptr);
  } else if (ec != std::errc()) {
    return std::nullopt;
  }
  return negative ? -value : value;
}

// Decimal [-+]?[0-9]+, octal 0o[0-7]+, hexadecimal 0x[0-9a-fA-F]+. An integer too large
// for 64 bits becomes the nearest double.
template <class J>
std::optional<J> parse_int(std::string_view s) {
  int base = 10;
  std::string_view digits = s;
  bool negative = false;
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'o' || s[1] == 'x')) {
    base = s[1] == 'o' ? 8 : 16;
    digits = s.substr(2);
  } else if (!digits.empty() && (digits.front() == '-' || digits.front() == '+')) {
    negative = digits.front() == '-';
    digits.remove_prefix(1);
  }
  if (!all_digits(digits, base)) return std::nullopt;

  std::uint64_t magnitude = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), magnitude, base);
  if (ec == std::errc::result_out_of_range) {
    double value = std::strtod(std::string(digits).c_str(), nullptr);
    if (base != 10) value = static_cast<double>(std::numeric_limits<std::uint64_t>::max());
    return J(negative ? -value : value);
  }
  if (ec != std::errc() || end != digits.data() + digits.size()) return std::nullopt;
  constexpr auto kMaxInt = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  if (!negative) {
    if (magnitude <= kMaxInt) return J(static_cast<std::int64_t>(magnitude));
    return J(magnitude);
  }
  if (magnitude <= kMaxInt) return J(-static_cast<std::int64_t>(magnitude));
  if (magnitude == kMaxInt + 1) return J(std::numeric_limits<std::int64_t>::min());
  return J(-static_cast<double>(magnitude));
}

template <class J>
J plain_scalar(const std::string& text) {
  if (auto b = parse_bool(text)) return J(*b);
  if (auto i = parse_int<J>(text)) return *i;
  if (auto f = parse_float(text)) return J(*f);
  return J(text);
}

template <class J>
J scalar(const YAML::Node& node) {
  const std::string& tag = node.Tag();
  const std::string& text = node.Scalar();
  if (tag == "?") return plain_scalar<J>(text);
  if (tag == "!" || tag == kTagStr) return J(text);
  if (tag == kTagNull) return J(nullptr);
  if (tag == kTagBool) {
    if (auto b = parse_bool(text)) return J(*b);
    throw error_at("!!bool value \"" + text + "\" is not true or false", node.Mark());
  }
  if (tag == kTagInt) {
    if (auto i = parse_int<J>(text)) return *i;
    throw error_at("!!int value \"" + text + "\" is not an integer", node.Mark());
  }
  if (tag == kTagFloat) {
    if (auto f = parse_float(text)) return J(*f);
    if (auto i = parse_int<J>(text)) return J(i->template get<double>());
    throw error_at("!!float value \"" + text + "\" is not a number", node.Mark());
  }
  throw error_at("unsupported YAML tag " + tag, node.Mark());
}

template <class J>
J convert(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Undefined:
    case YAML::NodeType::Null:
      // `key: !!str` (an explicitly tagged empty scalar) is the empty string.
      if (node.Tag() == kTagStr) return J("");
      return J(nullptr);
    case YAML::NodeType::Scalar:
      return scalar<J>(node);
    case YAML::NodeType::Sequence: {
      const std::string& tag = node.Tag();
      if (tag != "?" && tag != "!" && tag != "" && tag != kTagSeq) {
        throw error_at("unsupported YAML tag " + tag, node.Mark());
      }
      J array = J::array();
      for (const YAML::Node& item : node) array.push_back(convert<J>(item));
      return array;
    }
    case YAML::NodeType::Map: {
      const std::string& tag = node.Tag();
      if (tag != "?" && tag != "!" && tag != "" && tag != kTagMap) {
        throw error_at("unsupported YAML tag " + tag, node.Mark());
      }
      J object = J::object();
      for (const auto& entry : node) {
        const YAML::Node& key = entry.first;
        if (!key.IsScalar()) {
          throw error_at(key.IsNull() ? "a mapping key must not be null"
                                      : "a mapping key must be a scalar, not a collection",
                         key.Mark());
        }
        const std::string& name = key.Scalar();
        if (object.contains(name)) throw error_at("duplicate key \"" + name + "\"", key.Mark());
        object[name] = convert<J>(entry.second);
      }
      return object;
    }
  }
  return J(nullptr);
}

std::vector<YAML::Node> load_all(std::string_view yaml) {
  try {
    return YAML::LoadAll(std::string(yaml));
  } catch (const YAML::Exception& e) {
    throw error_at(e.msg, e.mark);
  }
}

template <class J>
J single_document(std::string_view yaml) {
  std::vector<YAML::Node> documents = load_all(yaml);
  if (documents.empty()) return J(nullptr);
  if (documents.size() > 1) {
    throw YamlError("expected one YAML document, found " + std::to_string(documents.size()), 0, 0);
  }
  return convert<J>(documents.front());
}

// ---------------------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------------------

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

bool has_control_character(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7f;
  });
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
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
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
// control characters, trailing blanks on a line, or a first line that starts with a blank
// (which would set the block's indentation).
bool fits_literal_block(std::string_view s) {
  if (s.find('\n') == std::string_view::npos) return false;
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

YamlError::YamlError(const std::string& message, int line, int column)
    : std::runtime_error(with_location(message, line, column)), line_(line), column_(column) {}

nlohmann::json yaml_to_json(std::string_view yaml) {
  return single_document<nlohmann::json>(yaml);
}

nlohmann::ordered_json yaml_to_ordered_json(std::string_view yaml) {
  return single_document<nlohmann::ordered_json>(yaml);
}

std::vector<nlohmann::json> yaml_documents_to_json(std::string_view yaml) {
  std::vector<nlohmann::json> out;
  for (const YAML::Node& document : load_all(yaml)) out.push_back(convert<nlohmann::json>(document));
  return out;
}

std::string json_to_yaml(const nlohmann::json& value) { return write(value); }

std::string json_to_yaml(const nlohmann::ordered_json& value) { return write(value); }

}  // namespace cpo::apimachinery
