// Reading a scalar the way the config's consumers read it: their YAML library resolves
// plain scalars by YAML 1.1 rules (yes/on/y are booleans, 010 is octal 8, 4_000 is
// 4000, 4.0 is a float), honours the yaml.org tags and turns unknown tags into strings;
// the JSON step that follows then turns an integral float into an integer.
#include "deviceplugin/detail.hpp"

#include <array>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <string>

namespace cpo::deviceplugin::detail {
namespace {

constexpr std::string_view kTagPrefix = "tag:yaml.org,2002:";

bool is_digit(char c) { return c >= '0' && c <= '9'; }

bool is_one_of(std::string_view s, std::initializer_list<std::string_view> words) {
  for (auto word : words) {
    if (s == word) return true;
  }
  return false;
}

// Go's strconv.ParseInt/ParseUint with base 0 (0x, 0o, 0b prefixes; a leading 0 is
// octal), over text whose '_' were removed. Sets `negative` and the magnitude.
bool parse_go_integer(std::string_view s, bool& negative, std::uint64_t& magnitude) {
  negative = false;
  if (!s.empty() && (s.front() == '+' || s.front() == '-')) {
    negative = s.front() == '-';
    s.remove_prefix(1);
  }
  if (s.empty()) return false;
  unsigned base = 10;
  if (s.size() >= 2 && s[0] == '0') {
    const char p = static_cast<char>(s[1] | 0x20);
    if (p == 'x' || p == 'o' || p == 'b') {
      base = p == 'x' ? 16 : p == 'o' ? 8 : 2;
      s.remove_prefix(2);
    } else {
      base = 8;
      s.remove_prefix(1);
    }
    if (s.empty()) return base == 8;  // "0x" is not a number, "00" is
  }
  magnitude = 0;
  for (char c : s) {
    unsigned digit = 0;
    if (is_digit(c)) {
      digit = static_cast<unsigned>(c - '0');
    } else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f') {
      digit = static_cast<unsigned>((c | 0x20) - 'a' + 10);
    } else {
      return false;
    }
    if (digit >= base) return false;
    if (magnitude > (std::numeric_limits<std::uint64_t>::max() - digit) / base) return false;
    magnitude = magnitude * base + digit;
  }
  return true;
}

// go-yaml's float pattern: [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?
bool is_yaml_float(std::string_view s) {
  std::size_t i = 0;
  if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
  const std::size_t int_start = i;
  while (i < s.size() && is_digit(s[i])) ++i;
  const bool int_digits = i > int_start;
  if (i < s.size() && s[i] == '.') {
    ++i;
    const std::size_t frac_start = i;
    while (i < s.size() && is_digit(s[i])) ++i;
    if (!int_digits && i == frac_start) return false;
  } else if (!int_digits) {
    return false;
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
    const std::size_t exp_start = i;
    while (i < s.size() && is_digit(s[i])) ++i;
    if (i == exp_start) return false;
  }
  return i == s.size();
}

Scalar make(ScalarKind kind) {
  Scalar out;
  out.kind = kind;
  return out;
}

Scalar make_float(double value) {
  Scalar out = make(ScalarKind::Float);
  out.number = value;
  // encoding/json writes an integral float below 1e21 as digits; an integer field
  // then takes it if it fits in int64.
  if (std::isfinite(value) && value == std::floor(value)) {
    if (value >= -9.223372036854775808e18 && value < 9.223372036854775808e18) {
      out.integer = static_cast<std::int64_t>(value);
    } else {
      out.beyond_int64 = true;
    }
  }
  return out;
}

Scalar make_integer(bool negative, std::uint64_t magnitude) {
  Scalar out = make(ScalarKind::Int);
  constexpr std::uint64_t kMax = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  out.number = negative ? -static_cast<double>(magnitude) : static_cast<double>(magnitude);
  if (!negative && magnitude <= kMax) {
    out.integer = static_cast<std::int64_t>(magnitude);
  } else if (negative && magnitude <= kMax + 1) {
    out.integer = magnitude == kMax + 1 ? std::numeric_limits<std::int64_t>::min()
                                        : -static_cast<std::int64_t>(magnitude);
  } else {
    out.beyond_int64 = true;  // ParseUint's range (positive) or not a number at all
    if (negative) return make(ScalarKind::String);
  }
  return out;
}

// Go's ParseFloat: a value beyond the float64 range is an error, so go-yaml keeps the
// text as a string.
Scalar go_float(const std::string& text) {
  const double value = std::strtod(text.c_str(), nullptr);
  if (std::isinf(value)) return make(ScalarKind::String);
  return make_float(value);
}

// A plain (untagged, unquoted) scalar, as go-yaml v2's resolve() reads it.
Scalar resolve_plain(std::string_view s) {
  if (is_one_of(s, {"", "~", "null", "Null", "NULL"})) return make(ScalarKind::Null);
  Scalar boolean = make(ScalarKind::Bool);
  if (is_one_of(s, {"y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"})) {
    boolean.boolean = true;
    return boolean;
  }
  if (is_one_of(s, {"n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"})) {
    return boolean;
  }
  if (is_one_of(s, {".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"})) {
    return make_float(std::numeric_limits<double>::infinity());
  }
  if (is_one_of(s, {"-.inf", "-.Inf", "-.INF"})) return make_float(-std::numeric_limits<double>::infinity());
  if (is_one_of(s, {".nan", ".NaN", ".NAN"})) return make_float(std::numeric_limits<double>::quiet_NaN());
  const char first = s.front();
  if (first == '.') {
    // Not in the table above: Go's ParseFloat of the text as is.
    const std::string text(s);
    if (is_yaml_float(text)) return go_float(text);
    return make(ScalarKind::String);
  }
  if (!is_digit(first) && first != '+' && first != '-') return make(ScalarKind::String);
  std::string plain;
  for (char c : s) {
    if (c != '_') plain += c;
  }
  bool negative = false;
  std::uint64_t magnitude = 0;
  if (parse_go_integer(plain, negative, magnitude)) {
    Scalar out = make_integer(negative, magnitude);
    if (out.kind == ScalarKind::Int) return out;
  }
  if (is_yaml_float(plain)) return go_float(plain);
  return make(ScalarKind::String);
}

std::optional<std::string> decode_base64(std::string_view s) {
  std::string out;
  unsigned buffer = 0;
  int bits = 0;
  std::size_t padding = 0;
  for (char c : s) {
    if (c == '\n' || c == '\r' || c == ' ') continue;
    if (c == '=') {
      ++padding;
      continue;
    }
    if (padding > 0) return std::nullopt;
    unsigned value = 0;
    if (c >= 'A' && c <= 'Z') value = static_cast<unsigned>(c - 'A');
    else if (c >= 'a' && c <= 'z') value = static_cast<unsigned>(c - 'a' + 26);
    else if (is_digit(c)) value = static_cast<unsigned>(c - '0' + 52);
    else if (c == '+') value = 62;
    else if (c == '/') value = 63;
    else return std::nullopt;
    buffer = (buffer << 6) | value;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((buffer >> bits) & 0xff);
    }
  }
  if (padding > 2) return std::nullopt;
  return out;
}

std::string short_tag(std::string_view tag) {
  if (tag.substr(0, kTagPrefix.size()) == kTagPrefix) return "!!" + std::string(tag.substr(kTagPrefix.size()));
  return std::string(tag);
}

Scalar invalid(std::string message) {
  Scalar out = make(ScalarKind::Invalid);
  out.error = std::move(message);
  return out;
}

// A scalar with an explicit tag: yaml.org tags are honoured, others make a string.
Scalar resolve_tagged(const std::string& tag, const std::string& text) {
  const std::string name = tag.substr(0, kTagPrefix.size()) == kTagPrefix ? tag.substr(kTagPrefix.size()) : "";
  Scalar out;
  if (name == "str" || name.empty() || name == "timestamp") {
    out = make(ScalarKind::String);
    out.text = text;
  } else if (name == "binary") {
    const auto decoded = decode_base64(text);
    if (!decoded) return invalid("!!binary value contains invalid base64 data");
    out = make(ScalarKind::String);
    out.text = *decoded;
  } else {
    out = resolve_plain(text);
    const bool int_as_float = name == "float" && out.kind == ScalarKind::Int;
    const char* wanted = name == "int" ? "int" : name == "bool" ? "bool" : name == "float" ? "float" : "null";
    const ScalarKind want = name == "int"    ? ScalarKind::Int
                            : name == "bool"  ? ScalarKind::Bool
                            : name == "float" ? ScalarKind::Float
                                              : ScalarKind::Null;
    if (name != "int" && name != "bool" && name != "float" && name != "null") {
      out = make(ScalarKind::String);  // !!map, !!seq and the like on a scalar
      out.text = text;
    } else if (int_as_float) {
      out = make_float(out.number);
    } else if (out.kind != want) {
      return invalid("cannot decode " + quote(text) + " as a !!" + wanted);
    }
  }
  out.unusual = "has the explicit tag " + short_tag(tag);
  return out;
}

// The note for a plain scalar the consumers read differently from how it looks.
std::string unusual_form(std::string_view text, const Scalar& s) {
  if (s.kind == ScalarKind::Bool && !is_one_of(text, {"true", "True", "TRUE", "false", "False", "FALSE"})) {
    return std::string("is a YAML 1.1 boolean the consumers read as ") + (s.boolean ? "true" : "false");
  }
  if ((s.kind == ScalarKind::Int || s.kind == ScalarKind::Float) && s.integer) {
    std::string_view digits = text;
    if (!digits.empty() && digits.front() == '-') digits.remove_prefix(1);
    const bool plain_decimal = !digits.empty() && (digits == "0" || digits.front() != '0') &&
                               digits.find_first_not_of("0123456789") == std::string_view::npos;
    if (!plain_decimal) {
      std::string note = "is read by the consumers as " + std::to_string(*s.integer);
      if (digits.size() > 1 && digits[0] == '0' && is_digit(digits[1]) && s.kind == ScalarKind::Int) {
        note += " (YAML 1.1: a leading 0 makes it octal)";
      }
      return note;
    }
  }
  return "";
}

}  // namespace

bool has_explicit_tag(const YAML::Node& node) {
  const std::string& tag = node.Tag();
  return !tag.empty() && tag != "?" && tag != "!";
}

Scalar resolve(const YAML::Node& node) {
  if (!node.IsDefined() || node.IsNull()) {
    if (has_explicit_tag(node)) return resolve_tagged(node.Tag(), "");
    return make(ScalarKind::Null);
  }
  if (!node.IsScalar()) return make(ScalarKind::Invalid);
  const std::string& text = node.Scalar();
  if (has_explicit_tag(node)) return resolve_tagged(node.Tag(), text);
  if (node.Tag() == "!") {  // quoted or block scalar
    Scalar out = make(ScalarKind::String);
    out.text = text;
    return out;
  }
  Scalar out = resolve_plain(text);
  if (out.kind == ScalarKind::String) out.text = text;
  out.unusual = unusual_form(text, out);
  return out;
}

std::optional<bool> as_bool(const YAML::Node& node) {
  const Scalar s = resolve(node);
  if (s.kind != ScalarKind::Bool) return std::nullopt;
  return s.boolean;
}

std::optional<int> as_int(const YAML::Node& node, bool* out_of_range) {
  if (out_of_range != nullptr) *out_of_range = false;
  const Scalar s = resolve(node);
  if (s.kind != ScalarKind::Int && s.kind != ScalarKind::Float) return std::nullopt;
  const bool in_range = s.integer && *s.integer >= std::numeric_limits<int>::min() &&
                        *s.integer <= std::numeric_limits<int>::max();
  if (!in_range) {
    if (out_of_range != nullptr) *out_of_range = s.integer.has_value() || s.beyond_int64;
    return std::nullopt;
  }
  return static_cast<int>(*s.integer);
}

std::optional<std::string> as_string(const YAML::Node& node) {
  const Scalar s = resolve(node);
  if (s.kind != ScalarKind::String) return std::nullopt;
  return s.text;
}

}  // namespace cpo::deviceplugin::detail
