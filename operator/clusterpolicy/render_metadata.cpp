// Object metadata every rendered object carries: name, namespace, our labels, the
// user's operator-wide labels and annotations, and the ClusterPolicy as controller owner.
#include "clusterpolicy/render_detail.hpp"

namespace cpo::clusterpolicy::detail {

json object_metadata(const RenderContext& ctx, const std::string& name, bool namespaced,
                     const std::string& app) {
  json labels = json::object();
  for (const auto& [key, value] : ctx.spec.operator_.labels) labels[key] = value;
  labels.update(common_labels());  // ours win
  if (!app.empty()) labels["app"] = app;

  json metadata = {{"name", name}, {"labels", std::move(labels)}};
  if (namespaced) metadata["namespace"] = ctx.inputs.ns;
  if (!ctx.spec.operator_.annotations.empty()) {
    json annotations = json::object();
    for (const auto& [key, value] : ctx.spec.operator_.annotations) annotations[key] = value;
    metadata["annotations"] = std::move(annotations);
  }
  if (!ctx.owner_references.is_null()) metadata["ownerReferences"] = ctx.owner_references;
  return metadata;
}

}  // namespace cpo::clusterpolicy::detail
