#include "runtime/store.hpp"

#include <mutex>

namespace cpo::runtime {

std::string object_key(const nlohmann::json& object) {
  const auto& meta = object.at("metadata");
  std::string ns = meta.value("namespace", "");
  std::string name = meta.value("name", "");
  return ns.empty() ? name : ns + "/" + name;
}

ObjectPtr Store::get(const std::string& key) const {
  std::shared_lock lock(mutex_);
  auto it = items_.find(key);
  return it == items_.end() ? nullptr : it->second;
}

std::vector<ObjectPtr> Store::list() const {
  std::shared_lock lock(mutex_);
  std::vector<ObjectPtr> out;
  out.reserve(items_.size());
  for (const auto& [key, object] : items_) out.push_back(object);
  return out;
}

std::vector<std::string> Store::keys() const {
  std::shared_lock lock(mutex_);
  std::vector<std::string> out;
  out.reserve(items_.size());
  for (const auto& [key, object] : items_) out.push_back(key);
  return out;
}

std::size_t Store::size() const {
  std::shared_lock lock(mutex_);
  return items_.size();
}

ObjectPtr Store::upsert(const std::string& key, ObjectPtr object) {
  std::unique_lock lock(mutex_);
  auto& slot = items_[key];
  std::swap(slot, object);
  return object;
}

ObjectPtr Store::erase(const std::string& key) {
  std::unique_lock lock(mutex_);
  auto it = items_.find(key);
  if (it == items_.end()) return nullptr;
  ObjectPtr old = std::move(it->second);
  items_.erase(it);
  return old;
}

std::unordered_map<std::string, ObjectPtr> Store::replace(std::unordered_map<std::string, ObjectPtr> items) {
  std::unique_lock lock(mutex_);
  std::swap(items_, items);
  return items;
}

}  // namespace cpo::runtime
