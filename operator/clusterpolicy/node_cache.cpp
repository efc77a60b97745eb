#include "clusterpolicy/node_cache.hpp"

#include "clusterpolicy/vocabulary.hpp"

namespace cpo::clusterpolicy {

namespace {

bool node_label_kept(const std::string& key) {
  return key.rfind("nvidia.com/", 0) == 0 || key == kNfdNvidiaPciLabel;
}

void slim_node(nlohmann::json& node) {
  auto& meta = node["metadata"];
  nlohmann::json kept = nlohmann::json::object();
  if (auto labels = meta.find("labels"); labels != meta.end() && labels->is_object()) {
    for (auto it = labels->begin(); it != labels->end(); ++it) {
      if (node_label_kept(it.key())) kept[it.key()] = *it;
    }
  }
  nlohmann::json slim = {{"metadata", {{"name", meta.value("name", "")},
                                       {"resourceVersion", meta.value("resourceVersion", "")},
                                       {"labels", std::move(kept)}}}};
  node = std::move(slim);
}

}  // namespace

runtime::Informer& watch_nodes(runtime::Manager& manager) {
  runtime::InformerOptions options;
  options.metadata_only = true;
  options.transform = slim_node;
  options.transform_name = "clusterpolicy-operator/slim-node";
  // Pages of 100: a page is decoded whole (every label and managedFields of each
  // Node) before the transform slims it, so the page size bounds that peak.
  options.page_size = 100;
  return manager.add_informer(kube::resources::nodes, std::move(options));
}

}  // namespace cpo::clusterpolicy
