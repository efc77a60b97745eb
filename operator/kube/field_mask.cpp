#include "kube/field_mask.hpp"

namespace cpo::kube {

FieldMask::FieldMask(std::initializer_list<std::string_view> paths) {
  for (std::string_view path : paths) add(path);
}

void FieldMask::add(std::string_view path) {
  keeps_all_ = false;
  FieldMask* mask = this;
  while (!path.empty()) {
    const std::size_t dot = path.find('.');
    const std::string_view key = path.substr(0, dot);
    auto it = mask->fields_.find(key);
    if (it == mask->fields_.end()) {
      it = mask->fields_.emplace(std::string(key), FieldMask{}).first;
    } else if (it->second.keeps_all_) {
      return;  // a shorter path already keeps all of it
    }
    mask = &it->second;
    if (dot == std::string_view::npos) break;
    mask->keeps_all_ = false;
    path.remove_prefix(dot + 1);
  }
  // The last key keeps its whole value, whatever longer paths asked for before.
  mask->keeps_all_ = true;
  mask->fields_.clear();
}

const FieldMask* FieldMask::field(std::string_view key) const {
  if (keeps_all_) return this;
  auto it = fields_.find(key);
  return it == fields_.end() ? nullptr : &it->second;
}

void FieldMask::prune(nlohmann::json& value) const {
  if (keeps_all_) return;
  if (value.is_array()) {
    for (auto& element : value) prune(element);
  } else if (value.is_object()) {
    for (auto it = value.begin(); it != value.end();) {
      const FieldMask* mask = field(it.key());
      if (!mask) {
        it = value.erase(it);
      } else {
        mask->prune(*it);
        ++it;
      }
    }
  }
}

}  // namespace cpo::kube
