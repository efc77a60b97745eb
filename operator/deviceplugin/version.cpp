// Device-plugin release numbers and the release an image reference names.
#include "deviceplugin/version.hpp"

#include <charconv>
#include <vector>

namespace cpo::deviceplugin {
namespace {

std::optional<int> number(std::string_view s) {
  if (s.empty() || s.size() > 6) return std::nullopt;
  int value = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc{} || end != s.data() + s.size()) return std::nullopt;
  return value;
}

std::vector<std::string_view> split(std::string_view s, char separator) {
  std::vector<std::string_view> out;
  for (std::size_t start = 0;;) {
    const std::size_t end = s.find(separator, start);
    out.push_back(s.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos) return out;
    start = end + 1;
  }
}

std::string quoted(std::string_view s) { return "\"" + std::string(s.substr(0, 128)) + "\""; }

}  // namespace

std::string PluginVersion::str() const {
  return "v" + std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(patch);
}

std::string PluginVersion::line() const {
  return "v" + std::to_string(major) + "." + std::to_string(minor);
}

bool PluginVersion::at_least(int line_major, int line_minor) const {
  return major != line_major ? major > line_major : minor >= line_minor;
}

std::optional<PluginVersion> parse_plugin_version(std::string_view text) {
  if (!text.empty() && text.front() == 'v') text.remove_prefix(1);
  const std::vector<std::string_view> parts = split(text, '.');
  if (parts.size() < 2 || parts.size() > 3) return std::nullopt;
  const auto major = number(parts[0]);
  const auto minor = number(parts[1]);
  const auto patch = parts.size() == 3 ? number(parts[2]) : std::optional<int>(0);
  if (!major || !minor || !patch) return std::nullopt;
  return PluginVersion{*major, *minor, *patch};
}

bool is_supported(const PluginVersion& version) {
  return version.at_least(kOldestPluginVersion.major, kOldestPluginVersion.minor) &&
         !version.at_least(kNewestPluginVersion.major, kNewestPluginVersion.minor + 1);
}

VersionFromImage plugin_version_from_image(std::string_view image) {
  const std::string newest = "the rules of " + kNewestPluginVersion.line() + ".x apply";
  if (image.find('@') != std::string_view::npos) {
    return {kNewestPluginVersion, "device-plugin image " + quoted(image) +
                                      " is pinned by digest, so its release is unknown; " + newest};
  }
  // The tag follows the last ':' after the last '/' (a registry port has a '/' after it).
  const std::size_t slash = image.rfind('/');
  const std::size_t colon = image.rfind(':');
  std::string_view tag = image;
  if (colon != std::string_view::npos && (slash == std::string_view::npos || colon > slash)) {
    tag = image.substr(colon + 1);
  } else if (slash != std::string_view::npos || image.empty()) {
    return {kNewestPluginVersion,
            "device-plugin image " + quoted(image) + " has no tag, so its release is unknown; " + newest};
  }
  // "v0.19.1-ubi9": the release is the part before the first '-'.
  const auto version = parse_plugin_version(tag.substr(0, tag.find('-')));
  if (!version) {
    return {kNewestPluginVersion, "device-plugin image tag " + quoted(tag) +
                                      " names no release such as v0.19.1; " + newest};
  }
  if (is_supported(*version)) return {*version, std::nullopt};
  const bool older = *version < kOldestPluginVersion;
  const PluginVersion nearest = older ? kOldestPluginVersion : kNewestPluginVersion;
  return {nearest, "device-plugin " + version->str() + " is " + (older ? "older" : "newer") +
                       " than the releases whose config rules are known (v0.17.0 ... v0.20.x); the rules of " +
                       nearest.line() + ".x apply"};
}

}  // namespace cpo::deviceplugin
