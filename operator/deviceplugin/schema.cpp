// The shape of a device-plugin config: every known key at every level with the type
// of its value. Unknown keys are errors (the consumers drop them without a word), with
// a hint when the key is known elsewhere or differs only in case or by a typo.
//
// Besides the keys of the operator's reference, the keys of current device-plugin
// releases are known too (flags.nvidiaDevRoot, flags.gdrcopyEnabled,
// flags.plugin.kubeletSocket, flags.plugin.cdiFeatureFlags, imex), so that a valid
// upstream config is never refused.
#include "deviceplugin/detail.hpp"

#include <algorithm>
#include <set>
#include <string>
#include <vector>

namespace cpo::deviceplugin::detail {
namespace {

enum class Kind { Map, List, Bool, String, Int, Enum, StringOrList, Duration, Devices, Version };

struct Field;
struct Schema {
  Kind kind = Kind::String;
  std::vector<Field> fields;        // Map
  std::vector<std::string> values;  // Enum, StringOrList: the allowed values ("" = any)
  std::vector<Schema> item;         // List: the one item schema
};
struct Field {
  std::string name;
  Schema schema;
};

Schema of(Kind kind) { return Schema{kind, {}, {}, {}}; }
Schema mapping(std::vector<Field> fields) { return Schema{Kind::Map, std::move(fields), {}, {}}; }
Schema list_of(Schema item) { return Schema{Kind::List, {}, {}, {std::move(item)}}; }
Schema one_of(Kind kind, std::vector<std::string> values) {
  return Schema{kind, {}, std::move(values), {}};
}

Schema build_schema() {
  const Schema replicated_resource = mapping({{"name", of(Kind::String)},
                                              {"replicas", of(Kind::Int)},
                                              {"rename", of(Kind::String)},
                                              {"devices", of(Kind::Devices)}});
  const Schema replicated = mapping({{"renameByDefault", of(Kind::Bool)},
                                     {"failRequestsGreaterThanOne", of(Kind::Bool)},
                                     {"resources", list_of(replicated_resource)}});
  const Schema pattern_resource =
      mapping({{"pattern", of(Kind::String)}, {"name", of(Kind::String)}});
  const Schema plugin = mapping(
      {{"passDeviceSpecs", of(Kind::Bool)},
       {"deviceListStrategy",
        one_of(Kind::StringOrList, {"envvar", "volume-mounts", "cdi-annotations", "cdi-cri"})},
       {"deviceIDStrategy", one_of(Kind::Enum, {"uuid", "index"})},
       {"cdiAnnotationPrefix", of(Kind::String)},
       {"nvidiaCTKPath", of(Kind::String)},
       {"containerDriverRoot", of(Kind::String)},
       {"kubeletSocket", of(Kind::String)},
       {"cdiFeatureFlags", of(Kind::StringOrList)}});
  const Schema gfd = mapping({{"oneshot", of(Kind::Bool)},
                              {"noTimestamp", of(Kind::Bool)},
                              {"sleepInterval", of(Kind::Duration)},
                              {"outputFile", of(Kind::String)},
                              {"machineTypeFile", of(Kind::String)}});
  const Schema flags = mapping({{"migStrategy", one_of(Kind::Enum, {"none", "single", "mixed"})},
                                {"failOnInitError", of(Kind::Bool)},
                                {"mpsRoot", of(Kind::String)},
                                {"nvidiaDriverRoot", of(Kind::String)},
                                {"nvidiaDevRoot", of(Kind::String)},
                                {"gdsEnabled", of(Kind::Bool)},
                                {"mofedEnabled", of(Kind::Bool)},
                                {"gdrcopyEnabled", of(Kind::Bool)},
                                {"useNodeFeatureAPI", of(Kind::Bool)},
                                {"deviceDiscoveryStrategy", of(Kind::String)},
                                {"plugin", plugin},
                                {"gfd", gfd}});
  return mapping(
      {{"version", of(Kind::Version)},
       {"flags", flags},
       {"sharing", mapping({{"timeSlicing", replicated}, {"mps", replicated}})},
       {"resources",
        mapping({{"gpus", list_of(pattern_resource)}, {"mig", list_of(pattern_resource)}})},
       {"imex", mapping({{"channelIDs", list_of(of(Kind::Int))}, {"required", of(Kind::Bool)}})}});
}

const Schema& root_schema() {
  static const Schema schema = build_schema();
  return schema;
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

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
           return lower(x) == lower(y);
         });
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

// The hint for an unknown key in a mapping of `schema`.
std::string hint_for(std::string_view name, const Schema& schema) {
  for (const Field& field : schema.fields) {
    if (iequals(field.name, name)) return did_you_mean({field.name});
  }
  for (bool exact : {true, false}) {
    std::vector<std::string> paths;
    for (const KnownKey& key : known_keys()) {
      const bool match = exact ? key.name == name : iequals(key.name, name);
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

bool is_plain_non_string(const YAML::Node& node) {
  if (!node.IsScalar()) return false;
  const ScalarKind kind = classify(node);
  return kind == ScalarKind::Bool || kind == ScalarKind::Yaml11Bool || kind == ScalarKind::Int ||
         kind == ScalarKind::Float;
}

class SchemaChecker {
 public:
  explicit SchemaChecker(Reporter& reporter) : reporter_(reporter) {}

  void check(const YAML::Node& node, const Schema& schema, const std::string& path,
             const YAML::Mark& key_mark);

 private:
  void check_map(const YAML::Node& node, const Schema& schema, const std::string& path);
  void check_enum_value(const YAML::Node& node, const Schema& schema, const std::string& path,
                        const YAML::Mark& mark);
  void check_string_or_list(const YAML::Node& node, const Schema& schema, const std::string& path,
                            const YAML::Mark& mark);
  void check_duration(const YAML::Node& node, const std::string& path, const YAML::Mark& mark);
  void check_version(const YAML::Node& node, const std::string& path, const YAML::Mark& mark);

  Reporter& reporter_;
};

void SchemaChecker::check(const YAML::Node& node, const Schema& schema, const std::string& path,
                          const YAML::Mark& key_mark) {
  const YAML::Mark mark = value_mark(node, key_mark);
  if (has_explicit_tag(node)) {
    reporter_.error(path, "YAML tags are not accepted (found " + quote(node.Tag()) + ")", mark);
    return;
  }
  switch (schema.kind) {
    case Kind::Map:
      if (node.IsMap()) {
        check_map(node, schema, path);
      } else if (!node.IsNull()) {
        reporter_.error(path, "must be a mapping, got " + describe(node), mark);
      }
      return;
    case Kind::List:
      if (node.IsSequence()) {
        for (std::size_t i = 0; i < node.size(); ++i) {
          check(node[i], schema.item.front(), index_path(path, i), mark);
        }
      } else if (!node.IsNull()) {
        reporter_.error(path, "must be a list, got " + describe(node), mark);
      }
      return;
    case Kind::Bool:
      if (!as_bool(node))
        reporter_.error(path, "must be true or false, got " + describe(node), mark);
      return;
    case Kind::Int: {
      bool out_of_range = false;
      if (as_int(node, &out_of_range)) return;
      reporter_.error(path,
                      out_of_range ? "integer out of range: " + describe(node)
                                   : "must be an integer, got " + describe(node),
                      mark);
      return;
    }
    case Kind::String:
      if (!as_string(node)) {
        reporter_.error(path,
                        "must be a string, got " + describe(node) +
                            (is_plain_non_string(node) ? " (quote it to use it as text)" : ""),
                        mark);
      }
      return;
    case Kind::Enum:
      check_enum_value(node, schema, path, mark);
      return;
    case Kind::StringOrList:
      check_string_or_list(node, schema, path, mark);
      return;
    case Kind::Duration:
      check_duration(node, path, mark);
      return;
    case Kind::Devices:
      check_devices(node, path, key_mark, reporter_);
      return;
    case Kind::Version:
      check_version(node, path, mark);
      return;
  }
}

void SchemaChecker::check_map(const YAML::Node& node, const Schema& schema,
                              const std::string& path) {
  std::set<std::string> seen;
  for (auto it = node.begin(); it != node.end(); ++it) {
    const YAML::Node key = it->first;
    if (!key.IsScalar()) {
      reporter_.error(path, "mapping keys must be strings, got " + describe(key), key.Mark());
      continue;
    }
    const std::string& name = key.Scalar();
    const std::string child_path = join_path(path, name);
    if (!seen.insert(name).second) {
      reporter_.error(child_path, "duplicate field " + quote(name), key.Mark());
      continue;
    }
    const auto field = std::find_if(schema.fields.begin(), schema.fields.end(),
                                    [&](const Field& f) { return f.name == name; });
    if (field == schema.fields.end()) {
      reporter_.error(child_path, "unknown field " + quote(name) + hint_for(name, schema),
                      key.Mark());
      continue;
    }
    check(it->second, field->schema, child_path, key.Mark());
  }
}

void SchemaChecker::check_enum_value(const YAML::Node& node, const Schema& schema,
                                     const std::string& path, const YAML::Mark& mark) {
  const auto value = as_string(node);
  const bool any = schema.values.empty();
  if (value && (any || std::find(schema.values.begin(), schema.values.end(), *value) !=
                           schema.values.end())) {
    return;
  }
  reporter_.error(path,
                  any ? "must be a string, got " + describe(node)
                      : "must be one of " + allowed_values(schema) + ", got " + describe(node),
                  mark);
}

void SchemaChecker::check_string_or_list(const YAML::Node& node, const Schema& schema,
                                         const std::string& path, const YAML::Mark& mark) {
  const bool restricted = !schema.values.empty();
  if (node.IsScalar()) {
    check_enum_value(node, schema, path, mark);
    return;
  }
  if (!node.IsSequence() || (restricted && node.size() == 0)) {
    if (restricted && (node.IsNull() || node.IsSequence())) {
      reporter_.error(path, "must name at least one of " + allowed_values(schema), mark);
    } else if (!node.IsNull()) {
      reporter_.error(path, "must be a string or a list of strings, got " + describe(node), mark);
    }
    return;
  }
  std::set<std::string> seen;
  for (std::size_t i = 0; i < node.size(); ++i) {
    const YAML::Node item = node[i];
    const std::string item_path = index_path(path, i);
    const auto value = as_string(item);
    if (value && !seen.insert(*value).second) {
      reporter_.error(item_path, "duplicate value " + quote(*value), item.Mark());
      continue;
    }
    check_enum_value(item, schema, item_path, value_mark(item, mark));
  }
}

void SchemaChecker::check_duration(const YAML::Node& node, const std::string& path,
                                   const YAML::Mark& mark) {
  const std::string expected = "must be a Go duration such as 60s or 1m30s, got " + describe(node);
  if (node.IsScalar()) {
    const ScalarKind kind = classify(node);
    if (kind == ScalarKind::Int || kind == ScalarKind::Float) {
      reporter_.error(path, expected + " (a bare number is read as nanoseconds)", mark);
      return;
    }
    if (kind == ScalarKind::String) {
      switch (check_go_duration(node.Scalar())) {
        case DurationCheck::Ok:
          return;
        case DurationCheck::Negative:
          reporter_.error(path, "must not be negative, got " + describe(node), mark);
          return;
        case DurationCheck::Invalid:
          break;
      }
    }
  }
  reporter_.error(path, expected, mark);
}

void SchemaChecker::check_version(const YAML::Node& node, const std::string& path,
                                  const YAML::Mark& mark) {
  if (node.IsNull()) return;
  if (!node.IsScalar()) {
    reporter_.error(path, "must be a string, got " + describe(node), mark);
    return;
  }
  const std::string& version = node.Scalar();
  if (version.empty() || version == "v1") return;
  reporter_.error(path, "unknown version: " + readable(version), mark);
}

}  // namespace

void check_schema(const YAML::Node& root, Reporter& reporter) {
  SchemaChecker(reporter).check(root, root_schema(), "", root.Mark());
}

}  // namespace cpo::deviceplugin::detail
