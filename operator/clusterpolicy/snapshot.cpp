#include "clusterpolicy/snapshot.hpp"

#include <algorithm>
#include <cctype>

#include <openssl/evp.h>

namespace cpo::clusterpolicy {

std::string config_hash(const ConfigContent& content) {
  // std::map iterates in key order: the serialisation is canonical.
  const nlohmann::json canonical = {
      {"data", content.data}, {"default", content.default_key}, {"migStrategy", content.mig_strategy}};
  return sha256_hex(canonical.dump());
}

std::string snapshot_source_label(const std::string& source) {
  std::string value = source.substr(0, 63);
  while (!value.empty() && !std::isalnum(static_cast<unsigned char>(value.back()))) value.pop_back();
  return value;
}

std::string sha256_hex(std::string_view text) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(text.data(), text.size(), digest, &length, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < length; ++i) {
    hex.push_back(kHex[digest[i] >> 4]);
    hex.push_back(kHex[digest[i] & 0xF]);
  }
  return hex;
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
                               {"labels",
                                {{"app.kubernetes.io/managed-by", "clusterpolicy-operator"},
                                 {"app.kubernetes.io/part-of", "clusterpolicy-operator"},
                                 {kSnapshotSourceLabel, snapshot_source_label(source)},
                                 {kSnapshotHashLabel, hash.substr(0, 63)}}},
                               {"annotations",
                                {{kSnapshotSha256Annotation, hash},
                                 {kSnapshotDefaultAnnotation, content.default_key},
                                 {kSnapshotMigStrategyAnnotation, content.mig_strategy}}}}},
                             {"immutable", true},
                             {"data", content.data}};
  // Owned by the ClusterPolicy (garbage-collected with it); a manifest read from a
  // file for `render` has no uid, and a reference without one would be refused.
  const std::string uid = meta.contains("uid") && meta["uid"].is_string() ? meta["uid"].get<std::string>() : "";
  if (!uid.empty()) {
    snapshot["metadata"]["ownerReferences"] = nlohmann::json::array({{{"apiVersion", "nvidia.com/v1"},
                                                                      {"kind", "ClusterPolicy"},
                                                                      {"name", meta.value("name", "")},
                                                                      {"uid", uid},
                                                                      {"controller", true},
                                                                      {"blockOwnerDeletion", true}}});
  }
  return snapshot;
}

std::optional<Snapshot> read_snapshot(const nlohmann::json& configmap) {
  const auto& meta = configmap.value("metadata", nlohmann::json::object());
  if (!meta.value("labels", nlohmann::json::object()).contains(kSnapshotSourceLabel)) return std::nullopt;
  const auto annotations = meta.value("annotations", nlohmann::json::object());
  Snapshot s;
  s.name = meta.value("name", "");
  s.hash = annotations.value(kSnapshotSha256Annotation, "");
  if (s.name.empty() || s.hash.empty()) return std::nullopt;
  if (annotations.contains(kSnapshotDefaultAnnotation)) s.default_key = annotations.value(kSnapshotDefaultAnnotation, "");
  if (annotations.contains(kSnapshotMigStrategyAnnotation)) {
    s.mig_strategy = annotations.value(kSnapshotMigStrategyAnnotation, "");
  }
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
