// Helpers shared by the device-plugin config tests.
#pragma once

#include "deviceplugin/config.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cpo::deviceplugin::test {

// A YAML text written as a raw string literal that starts with a newline.
inline std::string yaml(std::string_view text) {
  if (!text.empty() && text.front() == '\n') text.remove_prefix(1);
  return std::string(text);
}

inline std::vector<std::string> lines(const std::vector<Problem>& problems) {
  std::vector<std::string> out;
  for (const Problem& problem : problems) out.push_back(format_with_severity(problem));
  return out;
}

// The environment a row is validated in.
enum class Env {
  Bare,      // the device plugin as NVIDIA ships it: no consumer variable set
  Operator,  // what the operator's DaemonSets set (operand_env.hpp)
};

// One table row: a document under key "cfg" and the exact problem lines expected.
struct DocumentCase {
  std::string name;
  std::string text;
  std::vector<std::string> expected;
  std::optional<std::string> mig_strategy_override = std::nullopt;
  Env env = Env::Operator;
  PluginVersion version = kNewestPluginVersion;
  UnknownKeys unknown_keys = UnknownKeys::Refuse;
};

inline ValidationContext context_of(const DocumentCase& c) {
  ValidationContext context;
  context.mig_strategy_override = c.mig_strategy_override;
  if (c.env == Env::Bare) context.plugin_env.clear();
  context.plugin_version = c.version;
  context.unknown_keys = c.unknown_keys;
  return context;
}

inline std::vector<std::string> validate_lines(const DocumentCase& c) {
  return lines(validate_document("cfg", c.text, context_of(c)).problems);
}

}  // namespace cpo::deviceplugin::test
