// Reading scalar values the way the config's consumers read them, and the value
// formats of the config: Go durations, resource names, device references.
#include "deviceplugin/detail.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <string>

namespace cpo::deviceplugin::detail {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_hex(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

}  // namespace

namespace {

void append_escaped_byte(std::string& out, char c) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned char>(c));
  out += buf;
}

}  // namespace

std::string quote(std::string_view text) {
  constexpr std::size_t kShown = 64;  // characters
  std::string out = "\"";
  std::size_t shown = 0;
  for (std::size_t i = 0; i < text.size(); ++shown) {
    if (shown == kShown) {
      out += "...";
      break;
    }
    const char c = text[i];
    const std::size_t length = utf8_sequence_length(text.substr(i));
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (length == 0 || static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      append_escaped_byte(out, c);  // control characters and malformed UTF-8
    } else {
      out.append(text.substr(i, length));
      i += length;
      continue;
    }
    ++i;
  }
  out += '"';
  return out;
}

std::string readable(std::string_view text) {
  const bool plain =
      !text.empty() && text.size() <= 64 &&
      std::all_of(text.begin(), text.end(), [](char c) { return c > 0x20 && c < 0x7f; });
  return plain ? std::string(text) : quote(text);
}

std::string describe(const YAML::Node& node) {
  if (node.IsNull()) return "null";
  if (node.IsSequence()) return "a list";
  if (node.IsMap()) return "a mapping";
  if (has_explicit_tag(node)) return quote(node.Tag()) + " " + quote(node.Scalar());
  switch (resolve(node).kind) {
    case ScalarKind::Bool:
    case ScalarKind::Int:
    case ScalarKind::Float:
      return node.Scalar().size() <= 64 ? node.Scalar() : quote(node.Scalar());
    case ScalarKind::String:
      if (node.Tag() == "!") return "the string " + quote(node.Scalar());
      return quote(node.Scalar());
    default:
      return quote(node.Scalar());
  }
}

YAML::Mark value_mark(const YAML::Node& value, const YAML::Mark& key_mark) {
  return value.IsNull() ? key_mark : value.Mark();
}

namespace {

constexpr std::uint64_t kDurationLimit = std::uint64_t{1} << 63;

// The leading digits of `s` (Go's leadingInt): false on overflow.
bool leading_int(std::string_view& s, std::uint64_t& value) {
  value = 0;
  std::size_t i = 0;
  for (; i < s.size() && is_digit(s[i]); ++i) {
    if (value > kDurationLimit / 10) return false;
    value = value * 10 + static_cast<std::uint64_t>(s[i] - '0');
    if (value > kDurationLimit) return false;
  }
  s.remove_prefix(i);
  return true;
}

// The digits after a '.' (Go's leadingFraction): digits past the precision are dropped.
void leading_fraction(std::string_view& s, std::uint64_t& value, double& scale) {
  value = 0;
  scale = 1;
  bool overflow = false;
  std::size_t i = 0;
  for (; i < s.size() && is_digit(s[i]); ++i) {
    if (overflow) continue;
    if (value > (kDurationLimit - 1) / 10) {
      overflow = true;
      continue;
    }
    const std::uint64_t next = value * 10 + static_cast<std::uint64_t>(s[i] - '0');
    if (next > kDurationLimit) {
      overflow = true;
      continue;
    }
    value = next;
    scale *= 10;
  }
  s.remove_prefix(i);
}

std::uint64_t unit_nanoseconds(std::string_view unit) {
  if (unit == "ns") return 1;
  if (unit == "us" || unit == "\xC2\xB5s" || unit == "\xCE\xBCs") return 1000;
  if (unit == "ms") return 1000 * 1000;
  if (unit == "s") return 1000 * 1000 * 1000;
  if (unit == "m") return 60ULL * 1000 * 1000 * 1000;
  if (unit == "h") return 3600ULL * 1000 * 1000 * 1000;
  return 0;
}

}  // namespace

GoDuration parse_go_duration(std::string_view s) {
  GoDuration out;
  bool negative = false;
  if (!s.empty() && (s.front() == '-' || s.front() == '+')) {
    negative = s.front() == '-';
    s.remove_prefix(1);
  }
  if (s == "0") {
    out.nanoseconds = 0;
    return out;
  }
  if (s.empty()) return out;
  std::uint64_t total = 0;
  while (!s.empty()) {
    if (!(s[0] == '.' || is_digit(s[0]))) return out;
    const std::size_t before = s.size();
    std::uint64_t value = 0;
    if (!leading_int(s, value)) return out.overflow = true, out;
    const bool pre = before != s.size();
    std::uint64_t fraction = 0;
    double scale = 1;
    bool post = false;
    if (!s.empty() && s[0] == '.') {
      s.remove_prefix(1);
      const std::size_t at = s.size();
      leading_fraction(s, fraction, scale);
      post = at != s.size();
    }
    if (!pre && !post) return out;
    std::size_t i = 0;
    while (i < s.size() && s[i] != '.' && !is_digit(s[i])) ++i;
    const std::uint64_t unit = unit_nanoseconds(s.substr(0, i));
    if (unit == 0) return out;  // a missing or unknown unit
    s.remove_prefix(i);
    if (value > kDurationLimit / unit) return out.overflow = true, out;
    value *= unit;
    if (fraction > 0) {
      value += static_cast<std::uint64_t>(static_cast<double>(fraction) *
                                          (static_cast<double>(unit) / scale));
      if (value > kDurationLimit) return out.overflow = true, out;
    }
    total += value;
    if (total > kDurationLimit) return out.overflow = true, out;
  }
  if (!negative && total > kDurationLimit - 1) return out.overflow = true, out;
  out.nanoseconds = negative ? static_cast<std::int64_t>(0 - total) : static_cast<std::int64_t>(total);
  return out;
}

bool is_dns1123_subdomain(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  std::size_t label_start = 0;
  for (std::size_t i = 0; i <= s.size(); ++i) {
    if (i < s.size() && s[i] != '.') {
      const char c = s[i];
      if (!is_digit(c) && !(c >= 'a' && c <= 'z') && c != '-') return false;
      continue;
    }
    const std::string_view label = s.substr(label_start, i - label_start);
    if (label.empty() || label.front() == '-' || label.back() == '-') return false;
    label_start = i + 1;
  }
  return true;
}

ResourceNameCheck check_resource_name(std::string_view raw) {
  ResourceNameCheck check;
  if (raw.substr(0, kResourcePrefix.size()) == kResourcePrefix) {
    check.full = std::string(raw);
  } else if (raw.find('/') != std::string_view::npos) {
    check.error = "resource name " + quote(raw) + " must have the prefix nvidia.com/ or none";
    return check;
  } else {
    check.full = std::string(kResourcePrefix) + std::string(raw);
  }
  if (check.full.size() > 63) {
    check.error = "fully-qualified resource name " + quote(check.full) +
                  " must be 63 characters or less (it has " + std::to_string(check.full.size()) +
                  ")";
    return check;
  }
  const std::string_view name = std::string_view(check.full).substr(kResourcePrefix.size());
  if (!is_dns1123_subdomain(name)) {
    check.error = "invalid resource name " + quote(check.full) + ": " + quote(name) +
                  " is not a DNS-1123 subdomain (lowercase letters, digits, '-' and '.', "
                  "starting and ending with a letter or digit)";
  }
  return check;
}

namespace {

bool is_uuid(std::string_view s) {
  static constexpr std::array<std::size_t, 5> groups = {8, 4, 4, 4, 12};
  std::size_t i = 0;
  for (std::size_t g = 0; g < groups.size(); ++g) {
    if (g > 0) {
      if (i >= s.size() || s[i] != '-') return false;
      ++i;
    }
    for (std::size_t n = 0; n < groups[g]; ++n, ++i) {
      if (i >= s.size() || !is_hex(s[i])) return false;
    }
  }
  return i == s.size();
}

bool is_unsigned(std::string_view s) {
  return !s.empty() && s.find_first_not_of("0123456789") == std::string_view::npos;
}

// A GPU index ("0"), a MIG index ("0:1"), a GPU UUID ("GPU-<uuid>") or a MIG UUID
// ("MIG-<uuid>" or "MIG-GPU-<uuid>/<gi>/<ci>").
bool is_device_ref(std::string_view s) {
  if (is_unsigned(s)) return true;
  if (auto colon = s.find(':'); colon != std::string_view::npos) {
    return is_unsigned(s.substr(0, colon)) && is_unsigned(s.substr(colon + 1));
  }
  if (s.substr(0, 4) == "GPU-") return is_uuid(s.substr(4));
  if (s.substr(0, 4) != "MIG-") return false;
  s.remove_prefix(4);
  if (is_uuid(s)) return true;
  if (s.substr(0, 4) != "GPU-") return false;
  const std::size_t slash1 = s.find('/');
  if (slash1 == std::string_view::npos || !is_uuid(s.substr(4, slash1 - 4))) return false;
  const std::string_view rest = s.substr(slash1 + 1);
  const std::size_t slash2 = rest.find('/');
  return slash2 != std::string_view::npos && is_unsigned(rest.substr(0, slash2)) &&
         is_unsigned(rest.substr(slash2 + 1));
}

}  // namespace

void check_devices(const YAML::Node& node, const std::string& path, const YAML::Mark& key_mark,
                   Reporter& reporter) {
  if (node.IsSequence()) {
    for (std::size_t i = 0; i < node.size(); ++i) {
      const YAML::Node item = node[i];
      const Scalar scalar = item.IsScalar() ? resolve(item) : Scalar{};
      if (item.IsNull() || (item.IsScalar() && scalar.kind == ScalarKind::Null)) {
        // JSON null decodes into the consumers' GPU index without an error: index 0.
        reporter.warning(index_path(path, i), "is empty (null): the consumers read it as GPU index 0",
                         value_mark(item, key_mark));
        continue;
      }
      const bool ok = (scalar.integer && *scalar.integer >= 0) ||
                      (scalar.kind == ScalarKind::String && is_device_ref(scalar.text));
      if (!ok) {
        reporter.error(index_path(path, i),
                       "not a GPU index, MIG index (GPU:MIG) or GPU/MIG UUID: " + describe(item),
                       value_mark(item, key_mark));
      }
    }
    return;
  }
  if (node.IsScalar()) {
    // The consumers read a count as Go's int (64 bits; they then share all
    // devices whatever it says): any positive 64-bit count is one.
    const Scalar count = resolve(node);
    if ((count.kind == ScalarKind::Int || count.kind == ScalarKind::Float) && count.integer) {
      if (*count.integer > 0) return;
      reporter.error(path, "a count of devices must be > 0, got " + describe(node), node.Mark());
      return;
    }
    if (as_string(node) == "all") return;
  }
  reporter.error(path,
                 "must be \"all\", a positive count or a list of GPU indexes, MIG indexes or "
                 "UUIDs, got " +
                     describe(node),
                 value_mark(node, key_mark));
}

std::string join_path(std::string_view parent, std::string_view key) {
  const bool simple =
      !key.empty() && key.size() <= 64 && std::all_of(key.begin(), key.end(), [](char c) {
        return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
               c == '-' || c == '/';
      });
  const std::string component = simple ? std::string(key) : quote(key);
  if (parent.empty()) return component;
  return std::string(parent) + "." + component;
}

std::string index_path(std::string_view parent, std::size_t index) {
  return std::string(parent) + "[" + std::to_string(index) + "]";
}

}  // namespace cpo::deviceplugin::detail
