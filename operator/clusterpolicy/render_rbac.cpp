// ServiceAccounts and the least-privilege RBAC the operands need. The device plugin, the
// MPS control daemon and GPU Feature Discovery never call the API server; only
// config-manager does, to read the nvidia.com/device-plugin.config label of its own Node.
// So the only grant is get/list/watch on nodes, and only while config-manager runs.
#include "clusterpolicy/render_detail.hpp"

namespace cpo::clusterpolicy::detail {

namespace {

json service_account(const RenderContext& ctx, const std::string& name) {
  return {{"apiVersion", "v1"},
          {"kind", "ServiceAccount"},
          {"metadata", object_metadata(ctx, name, true)}};
}

}  // namespace

void render_rbac(const RenderContext& ctx, std::vector<json>& out) {
  const bool device_plugin = ctx.spec.device_plugin.enabled;
  const bool gfd = ctx.spec.gfd.enabled;
  if (device_plugin) out.push_back(service_account(ctx, kDevicePluginServiceAccount));
  if (gfd) out.push_back(service_account(ctx, kGfdServiceAccount));
  if (!ctx.inputs.config || !(device_plugin || gfd)) return;

  out.push_back({{"apiVersion", "rbac.authorization.k8s.io/v1"},
                 {"kind", "ClusterRole"},
                 {"metadata", object_metadata(ctx, kConfigManagerRbacName, false)},
                 {"rules", json::array({{{"apiGroups", json::array({""})},
                                         {"resources", json::array({"nodes"})},
                                         {"verbs", json::array({"get", "list", "watch"})}}})}});

  json subjects = json::array();
  for (const auto& [enabled, account] :
       {std::pair{device_plugin, kDevicePluginServiceAccount}, std::pair{gfd, kGfdServiceAccount}}) {
    if (!enabled) continue;
    subjects.push_back(
        {{"kind", "ServiceAccount"}, {"name", account}, {"namespace", ctx.inputs.ns}});
  }
  out.push_back({{"apiVersion", "rbac.authorization.k8s.io/v1"},
                 {"kind", "ClusterRoleBinding"},
                 {"metadata", object_metadata(ctx, kConfigManagerRbacName, false)},
                 {"roleRef",
                  {{"apiGroup", "rbac.authorization.k8s.io"},
                   {"kind", "ClusterRole"},
                   {"name", kConfigManagerRbacName}}},
                 {"subjects", std::move(subjects)}});
}

}  // namespace cpo::clusterpolicy::detail
