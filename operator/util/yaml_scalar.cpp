#include "util/yaml_scalar.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <limits>

namespace cpo::util::yaml_detail {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

bool all_digits(std::string_view s, int base) {
  if (s.empty()) return false;
  return std::all_of(s.begin(), s.end(), [base](char c) {
    if (base == 8) return c >= '0' && c <= '7';
    if (base == 16) return std::isxdigit(static_cast<unsigned char>(c)) != 0;
    return is_digit(c);
  });
}

bool is_null(std::string_view s) { return s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL"; }

std::optional<bool> parse_bool(std::string_view s) {
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  return std::nullopt;
}

// Whether `body` (no sign) is [0-9]+(\.[0-9]*)?|\.[0-9]+ then an optional exponent.
bool float_syntax(std::string_view body) {
  std::size_t i = 0;
  std::size_t int_digits = 0;
  while (i < body.size() && is_digit(body[i])) ++i, ++int_digits;
  std::size_t frac_digits = 0;
  if (i < body.size() && body[i] == '.') {
    ++i;
    while (i < body.size() && is_digit(body[i])) ++i, ++frac_digits;
  } else if (int_digits == 0) {
    return false;
  }
  if (int_digits == 0 && frac_digits == 0) return false;
  if (i < body.size() && (body[i] == 'e' || body[i] == 'E')) {
    ++i;
    if (i < body.size() && (body[i] == '-' || body[i] == '+')) ++i;
    std::size_t exp_digits = 0;
    while (i < body.size() && is_digit(body[i])) ++i, ++exp_digits;
    if (exp_digits == 0) return false;
  }
  return i == body.size();
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
  if (!float_syntax(body)) return std::nullopt;

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
J plain_scalar(std::string_view text) {
  if (is_null(text)) return J(nullptr);
  if (auto b = parse_bool(text)) return J(*b);
  if (auto i = parse_int<J>(text)) return *i;
  if (auto f = parse_float(text)) return J(*f);
  return J(std::string(text));
}

std::string quoted(std::string_view text) { return "\"" + std::string(text.substr(0, 60)) + "\""; }

}  // namespace

template <class J>
std::optional<J> scalar_value(std::string_view text, std::string_view tag, bool plain, std::string* error) {
  if (tag.empty()) return plain ? plain_scalar<J>(text) : J(std::string(text));
  if (tag == "!" || tag == kTagStr) return J(std::string(text));
  if (tag == kTagNull) return J(nullptr);
  if (tag == kTagBool) {
    if (auto b = parse_bool(text)) return J(*b);
    *error = "!!bool value " + quoted(text) + " is not true or false";
  } else if (tag == kTagInt) {
    if (auto i = parse_int<J>(text)) return *i;
    *error = "!!int value " + quoted(text) + " is not an integer";
  } else if (tag == kTagFloat) {
    if (auto f = parse_float(text)) return J(*f);
    if (auto i = parse_int<J>(text)) return J(i->template get<double>());
    *error = "!!float value " + quoted(text) + " is not a number";
  } else {
    *error = "unsupported YAML tag " + std::string(tag.substr(0, 60));
  }
  return std::nullopt;
}

template std::optional<nlohmann::json> scalar_value<nlohmann::json>(std::string_view, std::string_view, bool,
                                                                    std::string*);
template std::optional<nlohmann::ordered_json> scalar_value<nlohmann::ordered_json>(std::string_view,
                                                                                    std::string_view, bool,
                                                                                    std::string*);

}  // namespace cpo::util::yaml_detail
