#include "clusterpolicy/snapshot.hpp"

#include <algorithm>
#include <cctype>

#include "apimachinery/hash.hpp"

namespace cpo::clusterpolicy {

std::string config_hash(const ConfigContent& content) {
  // std::map iterates in key order: the serialisation is canonical.
  const nlohmann::json canonical = {
      {"data", content.data}, {"default", content.default_key}, {"migStrategy", content.mig_strategy}};
  return apimachinery::sha256_hex(canonical.dump());
}

std::string snapshot_source_label(const std::string& source) {
  std::string value = source.substr(0, 63);
  while (!value.empty() && !std::isalnum(static_cast<unsigned char>(value.back()))) value.pop_back();
  return value;
}

std::string snapshot_name(const std::string& source, const std::string& hash) {
  constexpr std::size_t kMaxName = 253;
  const std::string suffix = "-" + hash.substr(0, 10);
  std::string base = source.substr(0, kMaxName - suffix.size());
  while (!base.empty() && (base.back() == '-' || base.back() == '.')) base.pop_back();
  return base + suffix;
}

nlohmann::json render_snapshot(const std::string& source, const ConfigContent& content, const std::string& ns,
                               const nlohmann::json& owner) {
  const std::string hash = config_hash(content);
  const auto& meta = owner.at("metadata");
  nlohmann::json snapshot = {{"apiVersion", "v1"},
                             {"kind", "ConfigMap"},
                             {"metadata",
                              {{"name", snapshot_name(source, hash)},
                               {"namespace", ns},
                               {"labels", common_labels()},
                               {"annotations",
                                {{kSnapshotSha256Annotation, hash},
                                 {kSnapshotDefaultAnnotation, content.default_key},
                                 {kSnapshotMigStrategyAnnotation, content.mig_strategy}}}}},
                             {"immutable", true},
                             {"data", content.data}};
  snapshot["metadata"]["labels"][kSnapshotSourceLabel] = snapshot_source_label(source);
  snapshot["metadata"]["labels"][kSnapshotHashLabel] = hash.substr(0, 63);
  // Owned by the ClusterPolicy (garbage-collected with it); a manifest read from a
  // file for `render` has no uid, and a reference without one would be refused.
  const std::string uid = meta.contains("uid") && meta["uid"].is_string() ? meta["uid"].get<std::string>() : "";
  if (!uid.empty()) {
    snapshot["metadata"]["ownerReferences"] = owner_references(meta.value("name", ""), uid);
  }
  return snapshot;
}

std::optional<Snapshot> read_snapshot(const nlohmann::json& configmap) {
  const auto& meta = configmap.value("metadata", nlohmann::json::object());
  if (!find_key(meta.value("labels", nlohmann::json::object()), {kSnapshotSourceLabel, legacy::kSnapshotSourceLabel})) {
    return std::nullopt;
  }
  const auto annotations = meta.value("annotations", nlohmann::json::object());
  Snapshot s;
  s.name = meta.value("name", "");
  s.hash = find_key(annotations, {kSnapshotSha256Annotation, legacy::kSnapshotSha256Annotation}).value_or("");
  if (s.name.empty() || s.hash.empty()) return std::nullopt;
  s.default_key = find_key(annotations, {kSnapshotDefaultAnnotation, legacy::kSnapshotDefaultAnnotation});
  s.mig_strategy = find_key(annotations, {kSnapshotMigStrategyAnnotation, legacy::kSnapshotMigStrategyAnnotation});
  for (const auto& [key, value] : configmap_data(configmap)) s.keys.insert(key);
  s.created = meta.value("creationTimestamp", "");
  return s;
}

std::vector<std::string> snapshots_to_prune(const std::vector<Snapshot>& snapshots,
                                            const std::vector<std::string>& referenced, std::size_t keep) {
  std::vector<const Snapshot*> ordered;
  for (const auto& s : snapshots) ordered.push_back(&s);
  // Newest first: creationTimestamp (RFC 3339 sorts as text), then name for ties.
  std::sort(ordered.begin(), ordered.end(),
            [](const Snapshot* a, const Snapshot* b) { return a->created + a->name > b->created + b->name; });
  std::vector<std::string> prune;
  for (std::size_t i = keep; i < ordered.size(); ++i) {
    if (std::find(referenced.begin(), referenced.end(), ordered[i]->name) == referenced.end()) {
      prune.push_back(ordered[i]->name);
    }
  }
  return prune;
}

std::map<std::string, std::string> configmap_data(const nlohmann::json& configmap) {
  std::map<std::string, std::string> data;
  if (auto d = configmap.find("data"); d != configmap.end() && d->is_object()) {
    for (auto it = d->begin(); it != d->end(); ++it) {
      if (it->is_string()) data[it.key()] = it->get<std::string>();
    }
  }
  return data;
}

}  // namespace cpo::clusterpolicy
