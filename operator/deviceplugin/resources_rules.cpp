// The rules of the top-level `resources` block and of `imex`: the consumers validate
// every resources entry (and refuse to start on a bad one) before dropping the block,
// and the plugin accepts only the IMEX channel lists [] and [0].
#include "deviceplugin/detail.hpp"

namespace cpo::deviceplugin::detail {
namespace {

// One entry of resources.gpus or resources.mig: {pattern, name}, exact keys.
// Returns whether it is valid.
bool check_pattern_entry(const YAML::Node& item, const std::string& path, const YAML::Mark& mark,
                         Reporter& reporter) {
  if (!item.IsMap()) {
    if (item.IsNull()) reporter.error(path, "resources must have a 'pattern' field set (the entry is empty)", mark);
    return false;  // anything else is a type error, already reported
  }
  const auto pattern = find_entry(item, "pattern", KeyMatch::Exact);
  if (!pattern) {
    reporter.error(path, "resources must have a 'pattern' field set", item.Mark());
    return false;
  }
  const auto name = find_entry(item, "name", KeyMatch::Exact);
  if (!name) {
    reporter.error(path, "resources must have a 'name' field set", item.Mark());
    return false;
  }
  const auto raw = as_string(name->value);
  if (!raw) return false;
  const ResourceNameCheck check = check_resource_name(*raw);
  if (check.error) {
    reporter.error(path + ".name", *check.error, name->value.Mark());
    return false;
  }
  return as_string(pattern->value).has_value() || pattern->value.IsNull();
}

}  // namespace

void check_top_level_resources(const YAML::Node& root, Reporter& reporter) {
  const auto resources = find_entry(root, "resources", KeyMatch::Fold);
  if (!resources || !resources->value.IsMap()) return;
  const std::string base = join_path("", resources->key.Scalar());
  bool any = false;
  for (const char* list_name : {"gpus", "mig"}) {
    const auto list = find_entry(resources->value, list_name, KeyMatch::Fold);
    if (!list || !list->value.IsSequence()) continue;
    const std::string list_path = base + "." + list_name;
    for (std::size_t i = 0; i < list->value.size(); ++i) {
      const YAML::Node item = list->value[i];
      check_pattern_entry(item, index_path(list_path, i), value_mark(item, list->key.Mark()), reporter);
      any = true;
    }
  }
  if (any) {
    reporter.warning(base,
                     "ignored by the device plugin, which does not support customizing resource names",
                     resources->key.Mark());
  }
}

void check_imex(const YAML::Node& root, Reporter& reporter) {
  const auto imex = find_entry(root, "imex", KeyMatch::Fold);
  if (!imex) return;
  const auto ids = find_entry(imex->value, "channelIDs", KeyMatch::Fold);
  if (!ids || !ids->value.IsSequence()) return;
  const YAML::Node& list = ids->value;
  std::vector<int> values;
  for (std::size_t i = 0; i < list.size(); ++i) {
    if (list[i].IsNull()) {  // the consumers read null as 0
      values.push_back(0);
    } else if (const auto value = as_int(list[i])) {
      values.push_back(*value);
    } else {
      return;  // a type error, already reported
    }
  }
  if (values.empty() || (values.size() == 1 && values[0] == 0)) return;
  reporter.error("imex.channelIDs", "must be [] or [0]", list.Mark());
}

}  // namespace cpo::deviceplugin::detail
