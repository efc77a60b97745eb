// The entries of a YAML mapping as the consumers see them: `<<` merge keys expanded
// in place (go-yaml v2 semantics), keys matched exactly or case-insensitively.
#include "deviceplugin/detail.hpp"

namespace cpo::deviceplugin::detail {
namespace {

bool is_merge_key(const YAML::Node& key) {
  return key.IsScalar() && key.Scalar() == "<<" && key.Tag() == "?";
}

void expand(const YAML::Node& map, std::vector<Entry>& out, bool merged, int depth);

// A merge value: a mapping, or a list of mappings of which the earlier ones win (so
// they are appended last: the last entry of a name is the one read).
void expand_merge(const YAML::Node& value, std::vector<Entry>& out, int depth) {
  if (value.IsMap()) {
    expand(value, out, true, depth + 1);
  } else if (value.IsSequence()) {
    for (std::size_t i = value.size(); i-- > 0;) {
      if (value[i].IsMap()) expand(value[i], out, true, depth + 1);
    }
  }
}

void expand(const YAML::Node& map, std::vector<Entry>& out, bool merged, int depth) {
  if (depth > kMaxNestingDepth) return;  // a merge cycle; the alias guard refused it already
  for (auto it = map.begin(); it != map.end(); ++it) {
    if (is_merge_key(it->first)) {
      expand_merge(it->second, out, depth);
    } else {
      out.push_back(Entry{it->first, it->second, merged});
    }
  }
}

}  // namespace

std::string fold_key(std::string_view key) {
  std::string out;
  out.reserve(key.size());
  for (std::size_t i = 0; i < key.size(); ++i) {
    const char c = key[i];
    if (c >= 'A' && c <= 'Z') {
      out += static_cast<char>(c + ('a' - 'A'));
    } else if (key.substr(i, 2) == "\xC5\xBF") {  // U+017F LATIN SMALL LETTER LONG S
      out += 's';
      ++i;
    } else if (key.substr(i, 3) == "\xE2\x84\xAA") {  // U+212A KELVIN SIGN
      out += 'k';
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

bool key_matches(std::string_view key, std::string_view name, KeyMatch match) {
  if (key == name) return true;
  return match == KeyMatch::Fold && fold_key(key) == fold_key(name);
}

std::optional<YAML::Mark> invalid_merge(const YAML::Node& map) {
  if (!map.IsMap()) return std::nullopt;
  for (auto it = map.begin(); it != map.end(); ++it) {
    if (!is_merge_key(it->first)) continue;
    const YAML::Node value = it->second;
    bool ok = value.IsMap();
    if (value.IsSequence()) {
      ok = true;
      for (const YAML::Node& item : value) ok = ok && item.IsMap();
    }
    if (!ok) return it->first.Mark();
  }
  return std::nullopt;
}

std::vector<Entry> entries_of(const YAML::Node& map) {
  std::vector<Entry> out;
  if (map.IsMap()) expand(map, out, false, 0);
  return out;
}

bool read_after(std::string_view key, std::string_view other, KeyMatch match) {
  // Exact duplicates: the later one is read. Keys that differ in case reach the JSON
  // decoder in byte order, so the greater spelling is read last and wins.
  return match == KeyMatch::Exact || key >= other;
}

std::optional<Entry> find_entry(const YAML::Node& map, std::string_view name, KeyMatch match) {
  std::optional<Entry> found;
  if (!map.IsMap()) return found;
  for (const Entry& entry : entries_of(map)) {
    if (!entry.key.IsScalar() || !key_matches(entry.key.Scalar(), name, match)) continue;
    if (!found || read_after(entry.key.Scalar(), found->key.Scalar(), match)) found = entry;
  }
  return found;
}

}  // namespace cpo::deviceplugin::detail
