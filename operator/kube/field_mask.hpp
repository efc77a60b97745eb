// Which fields of an object a cache keeps, so that decoding skips the rest.
#pragma once

#include <initializer_list>
#include <map>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace cpo::kube {

// Which fields of an object to keep, as dotted paths ("metadata.labels" keeps the
// whole labels map; "status.capacity" keeps status with only its capacity). A
// path through an array applies to each of its elements. The default mask keeps
// everything.
class FieldMask {
 public:
  FieldMask() = default;
  FieldMask(std::initializer_list<std::string_view> paths);

  // The mask of a field's value, or nullptr when the field is dropped.
  const FieldMask* field(std::string_view key) const;
  // Drops from `value` whatever the mask does not keep.
  void prune(nlohmann::json& value) const;

  bool operator==(const FieldMask&) const = default;

 private:
  void add(std::string_view path);

  bool keeps_all_ = true;
  std::map<std::string, FieldMask, std::less<>> fields_;
};

}  // namespace cpo::kube
