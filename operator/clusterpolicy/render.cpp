// render(): parse the spec, resolve images and the owner, then emit the objects in
// apply order. Human notes explain what was left out and why.
#include "clusterpolicy/render.hpp"

#include <stdexcept>

#include "clusterpolicy/render_detail.hpp"
#include "apimachinery/nested.hpp"
#include "apimachinery/yaml_json.hpp"

namespace cpo::clusterpolicy {

namespace {

using json = nlohmann::json;

// [ClusterPolicy as controller owner], or null (with a note) when the object did not come
// from an API server (no uid), e.g. a file given to the render command.
json controller_owner(const json& cluster_policy, std::vector<std::string>& notes) {
  const std::string name = apimachinery::nested_string(cluster_policy, {"metadata", "name"});
  const std::string uid = apimachinery::nested_string(cluster_policy, {"metadata", "uid"});
  if (name.empty() || uid.empty()) {
    notes.push_back("ownerReferences omitted: the ClusterPolicy has no metadata." +
                    std::string(name.empty() ? "name" : "uid"));
    return nullptr;
  }
  return owner_references(name, uid);
}

void note_ignored_labels(const ClusterPolicySpec& spec, std::vector<std::string>& notes) {
  for (const char* key : {kManagedByLabel, kPartOfLabel, "app"}) {
    if (spec.operator_.labels.count(key) != 0) {
      notes.push_back(std::string("spec.operator.labels: ") + key +
                      " ignored: the operator sets this label");
    }
  }
  if (spec.daemonsets.labels.count("app") != 0) {
    notes.push_back("spec.daemonsets.labels: app ignored: it selects the operand pods");
  }
}

}  // namespace

Rendered render(const RenderInputs& inputs) {
  if (!inputs.cluster_policy.is_object()) {
    throw std::invalid_argument("render: the ClusterPolicy must be a JSON object");
  }
  const json spec_json = inputs.cluster_policy.value("spec", json(nullptr));
  const ClusterPolicySpec spec = parse_spec(spec_json);
  const bool device_plugin = spec.device_plugin.enabled;
  const bool gfd = spec.gfd.enabled;

  Rendered out;
  detail::RenderContext ctx{
      inputs,
      spec,
      device_plugin ? resolve_image(spec.device_plugin.image, inputs.images.device_plugin,
                                    "spec.devicePlugin")
                    : "",
      gfd ? resolve_image(spec.gfd.image, inputs.images.gfd, "spec.gfd") : "",
      controller_owner(inputs.cluster_policy, out.notes),
      out.notes,
  };

  if (!device_plugin && !gfd) {
    out.notes.push_back("nothing to deploy: spec.devicePlugin and spec.gfd are both disabled");
    return out;
  }
  note_ignored_labels(spec, out.notes);
  if (!inputs.runtime_class_exists) {
    out.notes.push_back("runtimeClassName omitted: RuntimeClass " + spec.operator_.runtime_class +
                        " does not exist");
  }
  if (!inputs.config && !spec.device_plugin.config_name.empty()) {
    out.notes.push_back("config-manager not deployed: spec.devicePlugin.config.name is " +
                        spec.device_plugin.config_name + " but no config source was supplied");
  }

  detail::render_rbac(ctx, out.objects);
  if (device_plugin) {
    out.objects.push_back(detail::device_plugin_daemonset(ctx));
    out.objects.push_back(detail::mps_control_daemon_daemonset(ctx));
  }
  if (gfd) out.objects.push_back(detail::gfd_daemonset(ctx));
  return out;
}

std::vector<ObjectKey> renderable_objects(const std::string& ns) {
  const std::string rbac = "rbac.authorization.k8s.io/v1";
  return {
      {"v1", "ServiceAccount", ns, kDevicePluginServiceAccount},
      {"v1", "ServiceAccount", ns, kGfdServiceAccount},
      {rbac, "ClusterRole", "", kConfigManagerRbacName},
      {rbac, "ClusterRoleBinding", "", kConfigManagerRbacName},
      {"apps/v1", "DaemonSet", ns, kDevicePluginName},
      {"apps/v1", "DaemonSet", ns, kMpsName},
      {"apps/v1", "DaemonSet", ns, kGfdName},
  };
}

std::string to_yaml_documents(const std::vector<nlohmann::json>& objects) {
  std::string out;
  for (const nlohmann::json& object : objects) {
    out += "---\n";
    out += apimachinery::json_to_yaml(object);
  }
  return out;
}

}  // namespace cpo::clusterpolicy
