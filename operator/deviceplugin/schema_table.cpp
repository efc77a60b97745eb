// The shape of a device-plugin config, v0.17 ... v0.20, and the hints for unknown keys.
#include "deviceplugin/schema.hpp"

#include <algorithm>

namespace cpo::deviceplugin::detail {
namespace {

Schema of(Kind kind) { return Schema{kind, {}, {}, {}}; }
Schema mapping(std::vector<Field> fields, KeyMatch keys) {
  return Schema{Kind::Map, std::move(fields), {}, {}, keys};
}
Schema list_of(Schema item) { return Schema{Kind::List, {}, {}, {std::move(item)}}; }
Schema one_of(Kind kind, std::vector<std::string> values) {
  return Schema{kind, {}, std::move(values), {}};
}
Schema strict(Schema schema) {
  schema.null_is_default = false;
  return schema;
}

Schema plugin_flags() {
  const std::string command_line_only =
      "the device plugin takes it on its command line only; in the config file it is ignored";
  return mapping(
      {{"passDeviceSpecs", of(Kind::Bool)},
       {"deviceListStrategy",
        one_of(Kind::StringOrList, {"envvar", "volume-mounts", "cdi-annotations", "cdi-cri"})},
       {"deviceIDStrategy", one_of(Kind::Enum, {"uuid", "index"})},
       {"cdiAnnotationPrefix", of(Kind::String)},
       {"nvidiaCTKPath", of(Kind::String)},
       {"containerDriverRoot", of(Kind::String)},
       {"sharedDevicesAllocationPolicy", one_of(Kind::Enum, {"distributed", "packed"}), 20},
       {"kubeletSocket", of(Kind::String), 17, command_line_only + " (--kubelet-socket)"},
       {"cdiFeatureFlags", of(Kind::StringOrList), 17, command_line_only + " (--cdi-feature-flags)"}},
      KeyMatch::Fold);
}

Schema flags() {
  const Schema gfd = mapping({{"oneshot", of(Kind::Bool)},
                              {"noTimestamp", of(Kind::Bool)},
                              {"sleepInterval", of(Kind::Duration)},
                              {"outputFile", of(Kind::String)},
                              {"machineTypeFile", of(Kind::String)}},
                             KeyMatch::Fold);
  return mapping({{"migStrategy", one_of(Kind::Enum, {"none", "single", "mixed"})},
                  {"failOnInitError", of(Kind::Bool)},
                  {"mpsRoot", of(Kind::String)},
                  {"nvidiaDriverRoot", of(Kind::String)},
                  {"nvidiaDevRoot", of(Kind::String)},
                  {"gdsEnabled", of(Kind::Bool)},
                  {"mofedEnabled", of(Kind::Bool)},
                  {"gdrcopyEnabled", of(Kind::Bool), 18},
                  {"useNodeFeatureAPI", of(Kind::Bool)},
                  {"deviceDiscoveryStrategy", one_of(Kind::Enum, {"auto", "nvml", "tegra"})},
                  {"plugin", plugin_flags()},
                  {"gfd", gfd}},
                 KeyMatch::Fold);
}

Schema build_schema() {
  // sharing.<strategy> and its resources are read by custom decoders: exact keys.
  const Schema replicated_resource = mapping({{"name", strict(of(Kind::String))},
                                              {"replicas", strict(of(Kind::Int))},
                                              {"rename", strict(of(Kind::String))},
                                              {"devices", strict(of(Kind::Devices))}},
                                             KeyMatch::Exact);
  const Schema replicated = mapping({{"renameByDefault", of(Kind::Bool)},
                                     {"failRequestsGreaterThanOne", of(Kind::Bool)},
                                     {"resources", list_of(replicated_resource)}},
                                    KeyMatch::Exact);
  const Schema pattern_resource = mapping(
      {{"pattern", of(Kind::String)}, {"name", strict(of(Kind::String))}}, KeyMatch::Exact);
  return mapping(
      {{"version", of(Kind::Version)},
       {"flags", flags()},
       {"sharing", mapping({{"timeSlicing", replicated}, {"mps", replicated}}, KeyMatch::Fold)},
       {"resources",
        mapping({{"gpus", list_of(pattern_resource)}, {"mig", list_of(pattern_resource)}},
                KeyMatch::Fold)},
       {"imex",
        mapping({{"channelIDs", list_of(of(Kind::Int))}, {"required", of(Kind::Bool)}},
                KeyMatch::Fold)}},
      KeyMatch::Fold);
}

// Every key of the schema with its full path, e.g. {"replicas",
// "sharing.mps.resources[].replicas"}.
struct KnownKey {
  std::string name;
  std::string path;
};

void collect_keys(const Schema& schema, const std::string& prefix, std::vector<KnownKey>& out) {
  for (const Field& field : schema.fields) {
    const std::string path = prefix.empty() ? field.name : prefix + "." + field.name;
    out.push_back({field.name, path});
    collect_keys(field.schema, path, out);
  }
  for (const Schema& item : schema.item) collect_keys(item, prefix + "[]", out);
}

const std::vector<KnownKey>& known_keys() {
  static const std::vector<KnownKey> keys = [] {
    std::vector<KnownKey> out;
    collect_keys(root_schema(), "", out);
    return out;
  }();
  return keys;
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::string did_you_mean(const std::vector<std::string>& candidates) {
  std::string out = " (did you mean ";
  for (std::size_t i = 0; i < candidates.size(); ++i) {
    if (i > 0) out += i + 1 == candidates.size() ? " or " : ", ";
    out += candidates[i];
  }
  return out + "?)";
}

}  // namespace

const Schema& root_schema() {
  static const Schema schema = build_schema();
  return schema;
}

std::string hint_for(std::string_view name, const Schema& schema) {
  for (const Field& field : schema.fields) {
    if (key_matches(name, field.name, KeyMatch::Fold)) return did_you_mean({field.name});
  }
  for (bool exact : {true, false}) {
    std::vector<std::string> paths;
    for (const KnownKey& key : known_keys()) {
      const bool match = exact ? key.name == name : key_matches(name, key.name, KeyMatch::Fold);
      if (match && paths.size() < 4) paths.push_back(key.path);
    }
    if (!paths.empty()) return did_you_mean(paths);
  }
  if (name.size() > 64) return "";
  const std::size_t limit = name.size() >= 6 ? 2 : 1;
  const Field* best = nullptr;
  std::size_t best_distance = limit + 1;
  for (const Field& field : schema.fields) {
    const std::size_t distance = edit_distance(name, field.name);
    if (distance < best_distance) best = &field, best_distance = distance;
  }
  return best != nullptr ? did_you_mean({best->name}) : "";
}

std::string allowed_values(const Schema& schema) {
  std::string out;
  for (const std::string& value : schema.values) out += (out.empty() ? "" : ", ") + value;
  return out;
}

}  // namespace cpo::deviceplugin::detail
