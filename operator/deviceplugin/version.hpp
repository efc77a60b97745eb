// The device-plugin release a ClusterPolicy deploys, as far as the config rules care.
//
// Contract: pure functions, no I/O. The validator knows the rules of every release from
// kOldestPluginVersion to the kNewestPluginVersion line (v0.17.0 ... v0.20.x); a release
// is named by major.minor.patch, and only major.minor changes a rule.
#pragma once

#include <compare>
#include <optional>
#include <string>
#include <string_view>

namespace cpo::deviceplugin {

struct PluginVersion {
  int major = 0;
  int minor = 20;
  int patch = 0;

  auto operator<=>(const PluginVersion&) const = default;
  // "v0.19.1"
  std::string str() const;
  // "v0.19": the release line
  std::string line() const;
  // Whether this release is `line` (major.minor) or newer, e.g. at_least(0, 19).
  bool at_least(int line_major, int line_minor) const;
};

inline constexpr PluginVersion kOldestPluginVersion{0, 17, 0};
inline constexpr PluginVersion kNewestPluginVersion{0, 20, 0};

// "v0.19.1", "0.19.1", "v0.19" (patch 0); nullopt for anything else.
std::optional<PluginVersion> parse_plugin_version(std::string_view text);

// Whether the rules of this release line are known (v0.17 ... v0.20).
bool is_supported(const PluginVersion& version);

struct VersionFromImage {
  PluginVersion version;         // the rules to apply
  std::optional<std::string> warning;  // set when the version had to be assumed
};

// The release an image reference or a bare tag names:
// "nvcr.io/nvidia/k8s-device-plugin:v0.19.1" and "v0.19.1-ubi9" give 0.19.1. A digest
// (@sha256:...), a missing or unknown tag give the newest rules and a warning saying
// so; a release outside v0.17 ... v0.20 gives the nearest supported line's rules and
// a warning.
VersionFromImage plugin_version_from_image(std::string_view image_or_tag);

}  // namespace cpo::deviceplugin
