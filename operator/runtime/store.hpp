// The informer's cache: objects keyed by "namespace/name" (or "name" for
// cluster-scoped kinds), shared as immutable snapshots so readers never copy.
#pragma once

#include <map>
#include <memory>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

namespace cpo::runtime {

using ObjectPtr = std::shared_ptr<const nlohmann::json>;

// "namespace/name", or "name" for cluster-scoped objects.
std::string object_key(const nlohmann::json& object);

class Store {
 public:
  ObjectPtr get(const std::string& key) const;
  std::vector<ObjectPtr> list() const;
  std::vector<std::string> keys() const;
  std::size_t size() const;

  // Inserts or replaces; returns the previous object (null when new).
  ObjectPtr upsert(const std::string& key, ObjectPtr object);
  // Removes; returns the removed object (null when absent).
  ObjectPtr erase(const std::string& key);
  // Swaps in a whole new content; returns the previous content.
  std::unordered_map<std::string, ObjectPtr> replace(std::unordered_map<std::string, ObjectPtr> items);

 private:
  mutable std::shared_mutex mutex_;
  std::unordered_map<std::string, ObjectPtr> items_;
};

}  // namespace cpo::runtime
