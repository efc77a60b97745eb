// The schema pass: every key against the schema of the deployed plugin release, every
// value against its type, enum and format, read as the consumers read it (schema.hpp).
//
// Keys the release ignores are reported as ValidationContext::unknown_keys says, with a
// hint; keys in another case are accepted where the consumers fold case; a flag that a
// consumer variable overrides gets one warning that names the variable, and its value
// problems (not its type problems, which stop the parser) are only noted there.
#include "deviceplugin/schema.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <map>
#include <set>

namespace cpo::deviceplugin::detail {
namespace {

struct Where {
  std::string path;       // as written, for messages
  std::string canonical;  // the schema's spelling, for version and override lookups
  YAML::Mark key_mark;
};

struct Override {
  std::string setting;  // "DEVICE_ID_STRATEGY=uuid"
  std::string value;
  std::string scope;    // "in the device plugin: its DaemonSet sets ..."
};

std::string plain_value(const YAML::Node& node) {
  if (node.IsSequence()) {
    std::string out;
    for (std::size_t i = 0; i < node.size(); ++i) {
      const auto item = as_string(node[i]);
      out += (i > 0 ? "," : "") + item.value_or("?");
    }
    return out;
  }
  const Scalar s = resolve(node);
  if (s.kind == ScalarKind::Bool) return s.boolean ? "true" : "false";
  return s.kind == ScalarKind::String ? s.text : node.IsScalar() ? node.Scalar() : "?";
}

// The consumers' YAML-to-JSON step converts a value for the Go type of its field. For
// the keys under flags.plugin and flags.gfd it looks that type up in the struct of the
// flags themselves (the embedded struct's first field), so a key spelled (in any case)
// like one of the string flags there turns .inf or .nan into text instead of failing.
bool converted_to_text(std::string_view parent_canonical, std::string_view name) {
  if (parent_canonical != "flags.plugin" && parent_canonical != "flags.gfd") return false;
  std::string lower(name);
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  static constexpr std::array<std::string_view, 5> kStringFlags = {
      "migstrategy", "mpsroot", "nvidiadriverroot", "nvidiadevroot", "devicediscoverystrategy"};
  return std::find(kStringFlags.begin(), kStringFlags.end(), lower) != kStringFlags.end();
}

// The flags whose value GPU Feature Discovery checks too: a variable on the device
// plugin alone does not save a bad value there.
bool checked_by_gfd(std::string_view canonical) {
  return canonical == "flags.migStrategy" || canonical == "flags.deviceDiscoveryStrategy";
}

class SchemaChecker {
 public:
  SchemaChecker(const ValidationContext& context, Reporter& reporter)
      : context_(context), reporter_(reporter) {}

  void check(const YAML::Node& node, const Schema& schema, const Where& where);

 private:
  void check_value(const YAML::Node& node, const Schema& schema, const Where& where,
                   const YAML::Mark& mark);
  void check_map(const YAML::Node& node, const Schema& schema, const Where& where);
  void check_entry(const Entry& entry, const Schema& schema, const Where& parent,
                   std::map<std::string, std::string>& seen, bool read);
  void check_list(const YAML::Node& node, const Schema& schema, const Where& where,
                  const YAML::Mark& mark);
  void check_enum_value(const YAML::Node& node, const Schema& schema, const std::string& path,
                        const std::string& canonical, const YAML::Mark& mark);
  void check_string_or_list(const YAML::Node& node, const Schema& schema, const Where& where,
                            const YAML::Mark& mark);
  void check_duration(const YAML::Node& node, const std::string& path, const YAML::Mark& mark);
  void check_version(const YAML::Node& node, const std::string& path, const YAML::Mark& mark);
  void check_overridden(const YAML::Node& node, const Schema& schema, const Where& where,
                        const Override& override_value);
  void report_ignored(const std::string& path, std::string message, const YAML::Node& value,
                      const YAML::Mark& mark, bool text_target = false);
  void check_ignored_subtree(const YAML::Node& node, const std::string& path, int depth,
                             bool text_target = false);
  void value_error(const std::string& path, std::string message, const YAML::Mark& mark);
  void note_unusual(const YAML::Node& node, const std::string& path, const YAML::Mark& mark);
  std::optional<Override> override_for(const std::string& canonical) const;

  const ValidationContext& context_;
  Reporter& reporter_;
  // While a flag that a variable overrides is checked: its value problems land here.
  std::vector<std::string>* value_notes_ = nullptr;
};

void SchemaChecker::value_error(const std::string& path, std::string message,
                                const YAML::Mark& mark) {
  if (value_notes_ != nullptr) {
    value_notes_->push_back(std::move(message));
  } else {
    reporter_.error(path, std::move(message), mark);
  }
}

void SchemaChecker::note_unusual(const YAML::Node& node, const std::string& path,
                                 const YAML::Mark& mark) {
  const Scalar s = resolve(node);
  if (s.unusual.empty()) return;
  reporter_.warning(path, (has_explicit_tag(node) ? quote(node.Scalar()) : describe(node)) + " " + s.unusual, mark);
}

std::optional<Override> SchemaChecker::override_for(const std::string& canonical) const {
  const auto& mig = context_.mig_strategy_override;
  if (canonical == "flags.migStrategy" && mig) {
    return Override{std::string(kMigStrategyEnv) + "=" + *mig, *mig,
                    "in every consumer: the operand DaemonSets set " + std::string(kMigStrategyEnv) +
                        "=" + *mig + " (ClusterPolicy spec.mig.strategy)"};
  }
  const auto env = env_override(canonical, context_.plugin_version.minor, context_.plugin_env);
  if (!env || checked_by_gfd(canonical)) return std::nullopt;
  const std::string setting = env->env + "=" + env->value;
  return Override{setting, env->value, "in the device plugin: its DaemonSet sets " + setting};
}

void SchemaChecker::check(const YAML::Node& node, const Schema& schema, const Where& where) {
  const YAML::Mark mark = value_mark(node, where.key_mark);
  if (!node.IsMap() && !node.IsSequence()) {
    const Scalar s = resolve(node);
    if (s.kind == ScalarKind::Invalid) {
      reporter_.error(where.path, "the consumers' YAML parser refuses it: " + s.error, mark);
      return;
    }
    if (s.kind == ScalarKind::Float && !std::isfinite(s.number)) {
      reporter_.error(where.path,
                      describe(node) + " cannot be converted to JSON by the consumers (json: unsupported value)",
                      mark);
      return;
    }
    if (s.kind == ScalarKind::Null && schema.kind != Kind::Map && schema.kind != Kind::List &&
        schema.null_is_default) {
      reporter_.warning(where.path, "is empty (null): the consumers use the default", mark);
      return;
    }
  }
  if (schema.kind != Kind::Map && schema.kind != Kind::List && !node.IsNull()) {
    if (auto o = override_for(where.canonical)) {
      check_overridden(node, schema, where, *o);
      return;
    }
  }
  check_value(node, schema, where, mark);
}

void SchemaChecker::check_value(const YAML::Node& node, const Schema& schema, const Where& where,
                                const YAML::Mark& mark) {
  const std::string& path = where.path;
  switch (schema.kind) {
    case Kind::Map:
      if (node.IsMap()) {
        check_map(node, schema, where);
      } else if (!node.IsNull()) {
        reporter_.error(path, "must be a mapping, got " + describe(node), mark);
      }
      return;
    case Kind::List:
      check_list(node, schema, where, mark);
      return;
    case Kind::Bool:
      if (!as_bool(node)) {
        reporter_.error(path, "must be true or false, got " + describe(node), mark);
      } else {
        note_unusual(node, path, mark);
      }
      return;
    case Kind::Int: {
      bool out_of_range = false;
      if (as_int(node, &out_of_range)) return note_unusual(node, path, mark);
      reporter_.error(path,
                      out_of_range ? "integer out of range: " + describe(node)
                                   : "must be an integer, got " + describe(node),
                      mark);
      return;
    }
    case Kind::String: {
      const Scalar s = resolve(node);
      if (s.kind == ScalarKind::String) return note_unusual(node, path, mark);
      const bool number_or_bool = s.kind == ScalarKind::Bool || s.kind == ScalarKind::Int ||
                                  s.kind == ScalarKind::Float;
      reporter_.error(path,
                      "must be a string, got " + describe(node) +
                          (number_or_bool ? " (quote it to use it as text)" : ""),
                      mark);
      return;
    }
    case Kind::Enum:
      check_enum_value(node, schema, path, where.canonical, mark);
      return;
    case Kind::StringOrList:
      check_string_or_list(node, schema, where, mark);
      return;
    case Kind::Duration:
      check_duration(node, path, mark);
      return;
    case Kind::Devices:
      check_devices(node, path, where.key_mark, reporter_);
      return;
    case Kind::Version:
      check_version(node, path, mark);
      return;
  }
}

void SchemaChecker::check_overridden(const YAML::Node& node, const Schema& schema,
                                     const Where& where, const Override& o) {
  std::vector<std::string> notes;
  value_notes_ = &notes;
  check_value(node, schema, where, value_mark(node, where.key_mark));
  value_notes_ = nullptr;
  if (notes.empty() && plain_value(node) == o.value) return;
  std::string message = "not in effect " + o.scope + ", which beats the file (value in effect: " +
                        quote(o.value) + ")";
  if (!notes.empty()) message += "; without it the file's value would be refused: " + notes.front();
  reporter_.warning(where.path, std::move(message), value_mark(node, where.key_mark));
}

void SchemaChecker::check_list(const YAML::Node& node, const Schema& schema, const Where& where,
                               const YAML::Mark& mark) {
  if (node.IsSequence()) {
    for (std::size_t i = 0; i < node.size(); ++i) {
      check(node[i], schema.item.front(),
            Where{index_path(where.path, i), where.canonical + "[]", mark});
    }
  } else if (!node.IsNull()) {
    reporter_.error(where.path, "must be a list, got " + describe(node), mark);
  }
}

void SchemaChecker::check_map(const YAML::Node& node, const Schema& schema, const Where& where) {
  if (const auto merge = invalid_merge(node)) {
    reporter_.error(where.path, "the consumers' YAML parser refuses a << merge key whose value is not a mapping or a list of mappings", *merge);
    return;
  }
  std::map<std::string, std::string> seen;  // folded key -> the key as first written
  const std::vector<Entry> entries = entries_of(node);
  // Of entries that name one key only the one the consumers read last is checked
  // (the others never reach a decoder that could refuse them); a duplicate written
  // out is still reported.
  std::vector<bool> read(entries.size(), true);
  for (std::size_t i = 0; i < entries.size(); ++i) {
    for (std::size_t j = i + 1; j < entries.size() && read[i]; ++j) {
      const YAML::Node& a = entries[i].key;
      const YAML::Node& b = entries[j].key;
      if (!a.IsScalar() || !b.IsScalar() || !key_matches(a.Scalar(), b.Scalar(), schema.keys)) continue;
      if (read_after(b.Scalar(), a.Scalar(), schema.keys)) {
        read[i] = false;
      } else {
        read[j] = false;
      }
    }
  }
  for (std::size_t i = 0; i < entries.size(); ++i) {
    if (entries[i].merged && !read[i]) continue;
    check_entry(entries[i], schema, where, seen, read[i]);
  }
}

void SchemaChecker::check_entry(const Entry& entry, const Schema& schema, const Where& parent,
                                std::map<std::string, std::string>& seen, bool read) {
  const YAML::Node& key = entry.key;
  if (!key.IsScalar()) {
    reporter_.error(parent.path, "mapping keys must be strings, got " + describe(key), key.Mark());
    return;
  }
  const std::string& name = key.Scalar();
  const std::string child_path = join_path(parent.path, name);
  const std::string folded = schema.keys == KeyMatch::Fold ? fold_key(name) : name;
  if (!entry.merged) {
    const auto [first, inserted] = seen.emplace(folded, name);
    if (!inserted) {
      reporter_.error(child_path,
                      first->second == name
                          ? "duplicate field " + quote(name) +
                                ": the consumers read only the last one and drop the others"
                          : "duplicate field " + quote(name) + ": the consumers read it and " +
                                quote(first->second) +
                                " as one key (case-insensitively) and drop one of them",
                      key.Mark());
    }
  }
  if (!read) return;  // dropped by the consumers: its duplicate is reported where it is
  const auto field = std::find_if(schema.fields.begin(), schema.fields.end(), [&](const Field& f) {
    return key_matches(name, f.name, schema.keys);
  });
  if (field == schema.fields.end()) {
    report_ignored(child_path, "unknown field " + quote(name) + ", which the consumers ignore" +
                                   hint_for(name, schema),
                   entry.value, key.Mark(), converted_to_text(parent.canonical, name));
    return;
  }
  if (!field->ignored_reason.empty()) {
    report_ignored(child_path, field->ignored_reason, entry.value, key.Mark(),
                   converted_to_text(parent.canonical, name));
    return;
  }
  if (field->since_minor > context_.plugin_version.minor) {
    report_ignored(child_path,
                   quote(field->name) + " is supported from v0." + std::to_string(field->since_minor) +
                       "; device plugin " + context_.plugin_version.line() + " ignores it",
                   entry.value, key.Mark());
    return;
  }
  if (field->name != name) {
    reporter_.warning(child_path,
                      "read as " + field->name +
                          " (the consumers match this key case-insensitively); write " + field->name,
                      key.Mark());
  }
  const std::string canonical = parent.canonical.empty() ? field->name : parent.canonical + "." + field->name;
  check(entry.value, field->schema, Where{child_path, canonical, key.Mark()});
}

void SchemaChecker::report_ignored(const std::string& path, std::string message,
                                   const YAML::Node& value, const YAML::Mark& mark, bool text_target) {
  if (context_.unknown_keys == UnknownKeys::Refuse) {
    reporter_.error(path, std::move(message), mark);
  } else {
    reporter_.warning(path, std::move(message), mark);
  }
  check_ignored_subtree(value, path, 0, text_target);
}

// What stops the consumers' parser even under a key they then drop.
// text_target: a scalar here is converted to text (converted_to_text), never a float.
void SchemaChecker::check_ignored_subtree(const YAML::Node& node, const std::string& path,
                                          int depth, bool text_target) {
  if (depth > kMaxNestingDepth) return;
  if (node.IsMap()) {
    if (const auto merge = invalid_merge(node)) {
      reporter_.error(path, "the consumers' YAML parser refuses a << merge key whose value is not a mapping or a list of mappings", *merge);
    }
    for (auto it = node.begin(); it != node.end(); ++it) {
      if (!it->first.IsScalar()) {
        reporter_.error(path, "mapping keys must be strings, got " + describe(it->first), it->first.Mark());
      }
      check_ignored_subtree(it->second, join_path(path, it->first.IsScalar() ? it->first.Scalar() : "?"),
                            depth + 1);
    }
  } else if (node.IsSequence()) {
    for (std::size_t i = 0; i < node.size(); ++i) check_ignored_subtree(node[i], index_path(path, i), depth + 1);
  } else {
    const Scalar s = resolve(node);
    if (s.kind == ScalarKind::Invalid) {
      reporter_.error(path, "the consumers' YAML parser refuses it: " + s.error, node.Mark());
    } else if (s.kind == ScalarKind::Float && !std::isfinite(s.number) && !text_target) {
      reporter_.error(path, describe(node) + " cannot be converted to JSON by the consumers (json: unsupported value)",
                      node.Mark());
    }
  }
}

void SchemaChecker::check_enum_value(const YAML::Node& node, const Schema& schema,
                                     const std::string& path, const std::string& canonical,
                                     const YAML::Mark& mark) {
  const auto value = as_string(node);
  if (!value) {
    reporter_.error(path, "must be a string (one of " + allowed_values(schema) + "), got " + describe(node),
                    mark);
    return;
  }
  if (std::find(schema.values.begin(), schema.values.end(), *value) != schema.values.end()) {
    return note_unusual(node, path, mark);
  }
  std::string message = "must be one of " + allowed_values(schema) + ", got " + describe(node);
  if (canonical == "flags.deviceDiscoveryStrategy" && *value == "vfio") {
    message += " (vfio is for GPU Feature Discovery only; the device plugin refuses it)";
  }
  value_error(path, std::move(message), mark);
}

void SchemaChecker::check_string_or_list(const YAML::Node& node, const Schema& schema,
                                         const Where& where, const YAML::Mark& mark) {
  const bool restricted = !schema.values.empty();
  if (node.IsScalar()) {
    if (restricted) return check_enum_value(node, schema, where.path, where.canonical, mark);
    if (!as_string(node)) reporter_.error(where.path, "must be a string or a list of strings, got " + describe(node), mark);
    return;
  }
  if (!node.IsSequence()) {
    reporter_.error(where.path, "must be a string or a list of strings, got " + describe(node), mark);
    return;
  }
  if (restricted && node.size() == 0) {
    value_error(where.path, "must name at least one of " + allowed_values(schema) +
                                " (with none the device plugin passes no devices to containers)",
                mark);
    return;
  }
  std::set<std::string> seen;
  for (std::size_t i = 0; i < node.size(); ++i) {
    const YAML::Node item = node[i];
    const std::string item_path = index_path(where.path, i);
    const YAML::Mark item_mark = value_mark(item, mark);
    if (item.IsNull()) {  // the empty string to the consumers
      if (restricted) value_error(item_path, "must be one of " + allowed_values(schema) + ", got null", item_mark);
      continue;
    }
    const auto value = as_string(item);
    if (!value) {
      reporter_.error(item_path, "must be a string, got " + describe(item), item_mark);
      continue;
    }
    if (!seen.insert(*value).second) {
      reporter_.warning(item_path, "duplicate value " + quote(*value) + " (harmless: the consumers apply it once)",
                        item_mark);
      continue;
    }
    if (restricted) check_enum_value(item, schema, item_path, where.canonical, item_mark);
  }
}

void SchemaChecker::check_duration(const YAML::Node& node, const std::string& path,
                                   const YAML::Mark& mark) {
  const std::string expected = "must be a Go duration such as 60s or 1m30s, got " + describe(node);
  const Scalar s = node.IsScalar() ? resolve(node) : Scalar{ScalarKind::Invalid};
  if (s.kind == ScalarKind::Int || s.kind == ScalarKind::Float) {
    reporter_.warning(path,
                      describe(node) + " is a bare number, which the consumers read as nanoseconds" +
                          (s.number <= 0 ? " (GFD then relabels without pause)" : "") +
                          "; write a unit, e.g. 60s",
                      mark);
    return;
  }
  if (s.kind != ScalarKind::String) {
    reporter_.error(path, expected, mark);
    return;
  }
  if (s.text == "infinite") {
    if (context_.plugin_version.at_least(0, 19)) return;
    reporter_.error(path, "\"infinite\" is accepted from v0.19; device plugin " +
                              context_.plugin_version.line() + " refuses it",
                    mark);
    return;
  }
  const GoDuration duration = parse_go_duration(s.text);
  if (duration.overflow) {
    reporter_.error(path, describe(node) + " is beyond the longest Go duration (2562047h47m16.854775807s)", mark);
  } else if (!duration.nanoseconds) {
    reporter_.error(path,
                    "must be a Go duration such as 60s or 1m30s" +
                        std::string(context_.plugin_version.at_least(0, 19) ? " (or infinite)" : "") +
                        ", got " + describe(node),
                    mark);
  } else if (*duration.nanoseconds <= 0) {
    reporter_.warning(path, describe(node) + " is not positive: GFD relabels without pause", mark);
  } else {
    note_unusual(node, path, mark);
  }
}

void SchemaChecker::check_version(const YAML::Node& node, const std::string& path,
                                  const YAML::Mark& mark) {
  if (node.IsNull()) return;
  if (!node.IsScalar()) {
    reporter_.error(path, "must be a string, got " + describe(node), mark);
    return;
  }
  const Scalar s = resolve(node);  // the consumers turn any scalar into a string here
  const std::string version = s.kind == ScalarKind::String ? s.text : node.Scalar();
  if (version.empty() || version == "v1") return note_unusual(node, path, mark);
  reporter_.error(path, "unknown version: " + readable(version), mark);
}

}  // namespace

void check_schema(const YAML::Node& root, const ValidationContext& context, Reporter& reporter) {
  SchemaChecker(context, reporter).check(root, root_schema(), Where{"", "", root.Mark()});
}

}  // namespace cpo::deviceplugin::detail
