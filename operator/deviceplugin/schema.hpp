// Internal to the validator: the shape of a device-plugin config, every key at every
// level with the type of its value, how the consumers match the keys of each mapping,
// and the plugin release that introduced each key (schema_table.cpp). The checker that
// walks a document against it is schema.cpp.
#pragma once

#include "deviceplugin/detail.hpp"

#include <string>
#include <vector>

namespace cpo::deviceplugin::detail {

enum class Kind { Map, List, Bool, String, Int, Enum, StringOrList, Duration, Devices, Version };

struct Field;
struct Schema {
  Kind kind = Kind::String;
  std::vector<Field> fields;        // Map
  std::vector<std::string> values;  // Enum, StringOrList: the allowed values ("" = any)
  std::vector<Schema> item;         // List: the one item schema
  KeyMatch keys = KeyMatch::Exact;  // Map: how the consumers match its keys
  // A null value: the default (the consumers' standard decoding), or refused by the
  // custom decoder of a sharing resource (name, replicas, rename, devices).
  bool null_is_default = true;
};

struct Field {
  std::string name;
  Schema schema;
  int since_minor = 17;  // the plugin release line (v0.<since_minor>) that reads it
  // Set for keys the consumers never read from the file, with the reason.
  std::string ignored_reason;
};

const Schema& root_schema();

// The hint for a key `name` that a mapping of `schema` does not know, e.g.
// " (did you mean migStrategy?)", or "".
std::string hint_for(std::string_view name, const Schema& schema);

// "a, b, c": the allowed values of an Enum or StringOrList.
std::string allowed_values(const Schema& schema);

}  // namespace cpo::deviceplugin::detail
