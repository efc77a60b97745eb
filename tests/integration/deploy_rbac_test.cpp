// The Helm chart's RBAC against a real API server: the rule files
// (charts/clusterpolicy-operator/files/) are valid and least privilege, the plain
// install (manifests/install.yaml) carries them verbatim, and the operator identity
// they grant can do its work and nothing more.
#include <catch2/catch.hpp>

#include "support/deploy_support.hpp"

using namespace cpo::testing::deploy;

namespace {

const std::vector<std::string> kAllVerbs = {"get", "list", "watch", "create", "update", "patch", "delete"};

// The operator's least-privilege permissions, as designed: a change to the chart's rule
// files must change this list too.
json expected_cluster_rules() {
  return json::array({
      rule({"nvidia.com"}, {"clusterpolicies"}, {"get", "list", "watch"}),
      rule({"nvidia.com"}, {"clusterpolicies/status"}, {"get", "update", "patch"}),
      rule({"nvidia.com"}, {"clusterpolicies/finalizers"}, {"update"}),
      rule({""}, {"nodes"}, {"get", "list", "watch", "patch"}),
      rule({"node.k8s.io"}, {"runtimeclasses"}, {"get", "list", "watch"}),
      rule({"rbac.authorization.k8s.io"}, {"clusterroles", "clusterrolebindings"}, {"get", "list", "watch", "create"}),
      rule({"rbac.authorization.k8s.io"}, {"clusterroles", "clusterrolebindings"}, {"update", "patch", "delete"},
           {"nvidia-device-plugin-config-manager"}),
      rule({""}, {"events"}, {"create", "patch"}),
      rule({"authentication.k8s.io"}, {"tokenreviews"}, {"create"}),
      rule({"authorization.k8s.io"}, {"subjectaccessreviews"}, {"create"}),
  });
}

json expected_namespace_rules() {
  return json::array({
      rule({""}, {"configmaps"}, {"get", "list", "watch", "create", "delete"}),
      rule({""}, {"serviceaccounts"}, kAllVerbs),
      rule({"apps"}, {"daemonsets"}, kAllVerbs),
      rule({"coordination.k8s.io"}, {"leases"}, {"get", "create", "update"}),
  });
}

}  // namespace

TEST_CASE("The chart's RBAC rule files are valid rules and least privilege", "[deploy][rbac][integration]") {
  cpo::kube::Client client(TestCluster::get().admin_config());
  cpo::testing::ScopedNamespace ns(client, "crd-rbac");

  struct Case {
    std::string file, kind, expected_name;
    json expected;
  };
  const std::vector<Case> cases = {
      {"clusterrole-rules.yaml", "ClusterRole", "cluster", expected_cluster_rules()},
      {"role-rules.yaml", "Role", "namespaced", expected_namespace_rules()},
  };
  for (const auto& c : cases) {
    INFO(c.file);
    // Wrapped the way the chart's templates wrap them, and checked by the API server.
    std::string manifest = "apiVersion: rbac.authorization.k8s.io/v1\nkind: " + c.kind +
                           "\nmetadata:\n  name: crd-test-rules-" + random_suffix() +
                           (c.kind == "Role" ? "\n  namespace: " + ns.name() : std::string{}) + "\n" +
                           rules_block(chart_rules_text(c.file));
    TempFile file(manifest);
    json served = parse_output(kubectl("create --dry-run=server -o json -f " + file.arg()));
    json rules = normalized_rules(served["rules"]);
    CHECK(rules == normalized_rules(chart_rules(c.file)));
    CHECK(rules == c.expected);
  }
}

TEST_CASE("manifests/install.yaml applies and carries the chart's exact RBAC", "[deploy][rbac][integration]") {
  OperatorNamespace operator_namespace;
  std::string install = repo_path("manifests/install.yaml");
  ok("apply --dry-run=server -f " + install);

  std::string text = read_file(kRepo / "manifests" / "install.yaml");
  // Copied verbatim, comments included.
  CHECK_THAT(text, Catch::Contains(rules_block(chart_rules_text("clusterrole-rules.yaml"))));
  CHECK_THAT(text, Catch::Contains(rules_block(chart_rules_text("role-rules.yaml"))));

  std::map<std::string, YAML::Node> objects;  // kind -> object (one of each here, and the scrapers' ClusterRole)
  for (const auto& doc : YAML::LoadAll(text)) {
    if (!doc.IsMap()) continue;
    std::string kind = doc["kind"].as<std::string>();
    const std::string name = doc["metadata"]["name"].as<std::string>();
    if (kind == "ClusterRole" && name.size() > 15 && name.substr(name.size() - 15) == "-metrics-reader") {
      kind = "metrics-reader ClusterRole";
    }
    INFO(kind);
    CHECK(objects.count(kind) == 0);
    objects[kind] = doc;
  }
  for (const char* kind : {"Namespace", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding",
                           "Deployment", "Service"}) {
    INFO(kind);
    CHECK(objects.count(kind) == 1);
  }
  CHECK(yaml_to_json(objects["ClusterRole"]["rules"]) == chart_rules("clusterrole-rules.yaml"));
  // What a scraper of the HTTPS /metrics is bound to.
  REQUIRE(objects.count("metrics-reader ClusterRole") == 1);
  CHECK(yaml_to_json(objects["metrics-reader ClusterRole"]["rules"]) ==
        json::parse(R"([{"nonResourceURLs": ["/metrics"], "verbs": ["get"]}])"));
  CHECK(yaml_to_json(objects["Role"]["rules"]) == chart_rules("role-rules.yaml"));

  // The bindings give those rules to the ServiceAccount the Deployment runs as.
  std::string account = objects["ServiceAccount"]["metadata"]["name"].as<std::string>();
  CHECK(account == kChartServiceAccount);
  CHECK(objects["ServiceAccount"]["metadata"]["namespace"].as<std::string>() == kOperatorNamespace);
  for (const char* binding : {"ClusterRoleBinding", "RoleBinding"}) {
    INFO(binding);
    YAML::Node b = objects[binding];
    std::string role_kind = std::string(binding) == "RoleBinding" ? "Role" : "ClusterRole";
    CHECK(b["roleRef"]["kind"].as<std::string>() == role_kind);
    CHECK(b["roleRef"]["name"].as<std::string>() == objects[role_kind]["metadata"]["name"].as<std::string>());
    REQUIRE(b["subjects"].size() == 1);
    CHECK(b["subjects"][0]["kind"].as<std::string>() == "ServiceAccount");
    CHECK(b["subjects"][0]["name"].as<std::string>() == account);
    CHECK(b["subjects"][0]["namespace"].as<std::string>() == kOperatorNamespace);
  }

  YAML::Node pod = objects["Deployment"]["spec"]["template"]["spec"];
  CHECK(objects["Deployment"]["spec"]["replicas"].as<int>() == 1);
  // One replica, no leader election: Recreate keeps two operators from overlapping on upgrade.
  CHECK(objects["Deployment"]["spec"]["strategy"]["type"].as<std::string>() == "Recreate");
  CHECK(pod["serviceAccountName"].as<std::string>() == account);
  CHECK(pod["securityContext"]["runAsNonRoot"].as<bool>());
  REQUIRE(pod["containers"].size() == 1);
  YAML::Node container = pod["containers"][0];
  CHECK(yaml_to_json(container["args"]) ==
        json::array({"run", "--health-probe-bind-address=:8081", "--metrics-bind-address=:8443",
                     "--log-format=text", "--rollout-deadline=10m"}));
  std::set<std::string> env;
  for (const auto& e : container["env"]) env.insert(e["name"].as<std::string>());
  CHECK(env == std::set<std::string>{"POD_NAME", "OPERATOR_NAMESPACE", "DEVICE_PLUGIN_IMAGE", "GFD_IMAGE"});
  CHECK(container["livenessProbe"]["httpGet"]["path"].as<std::string>() == "/healthz");
  CHECK(container["readinessProbe"]["httpGet"]["path"].as<std::string>() == "/readyz");
  CHECK(container["securityContext"]["readOnlyRootFilesystem"].as<bool>());
  CHECK_FALSE(container["securityContext"]["allowPrivilegeEscalation"].as<bool>());
  CHECK(yaml_to_json(container["securityContext"]["capabilities"]["drop"]) == json::array({"ALL"}));
  YAML::Node port = objects["Service"]["spec"]["ports"][0];
  CHECK(port["name"].as<std::string>() == "https-metrics");
  CHECK(port["port"].as<int>() == 8443);
}

TEST_CASE("The chart's RBAC lets the operator identity do its work and no more", "[deploy][rbac][integration]") {
  const TestCluster& cluster = TestCluster::get();
  fs::path identity = cluster.identity_kubeconfig(kOperatorNamespace, kOperatorAccount);
  if (!fs::exists(identity)) {
    WARN("no identity kubeconfig " << identity << ": the cluster was started without --sa gpu-operator:gpu-operator");
    return;
  }
  ensure_crd();
  OperatorNamespace operator_namespace;

  // The chart's RBAC, bound to the operator's test identity under names of our own.
  std::string name = "crd-test-operator-" + random_suffix();
  std::string subject = "subjects:\n- kind: ServiceAccount\n  name: " + kOperatorAccount + "\n  namespace: " +
                        kOperatorNamespace + "\n";
  TempFile cluster_rbac("apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: " + name +
                        "\n" + rules_block(chart_rules_text("clusterrole-rules.yaml")) +
                        "---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata:\n  name: " +
                        name + "\nroleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: ClusterRole\n  name: " +
                        name + "\n" + subject);
  TempFile namespace_rbac("apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata:\n  name: " + name +
                          "\n  namespace: " + kOperatorNamespace + "\n" +
                          rules_block(chart_rules_text("role-rules.yaml")) +
                          "---\napiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata:\n  name: " +
                          name + "\n  namespace: " + kOperatorNamespace +
                          "\nroleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: Role\n  name: " + name + "\n" +
                          subject);
  Cleanup cleanup_cluster({"clusterrolebinding " + name, "clusterrole " + name});
  Cleanup cleanup_namespaced({"rolebinding " + name, "role " + name}, kOperatorNamespace);
  ok("apply -f " + cluster_rbac.arg());
  ok("apply -f " + namespace_rbac.arg());

  auto as_operator = [&](const std::string& args) {
    return cpo::testing::run_command("kubectl --kubeconfig " + shell_quote(identity.string()) + " " + args);
  };
  // `auth can-i` exits 0 for yes, 1 for no (its output may carry warnings).
  auto can = [&](const std::string& what) { return as_operator("auth can-i " + what).exit_code == 0; };
  const std::string ns = " -n " + kOperatorNamespace;

  const std::vector<std::string> allowed = {
      "watch clusterpolicies.nvidia.com",
      "patch clusterpolicies.nvidia.com --subresource=status",
      "update clusterpolicies.nvidia.com --subresource=status",
      "update clusterpolicies.nvidia.com --subresource=finalizers",
      "list nodes",
      "patch nodes",
      "watch runtimeclasses.node.k8s.io",
      "create clusterroles.rbac.authorization.k8s.io",
      "patch clusterroles.rbac.authorization.k8s.io/nvidia-device-plugin-config-manager",
      "delete clusterrolebindings.rbac.authorization.k8s.io/nvidia-device-plugin-config-manager",
      "create events -n default",
      "watch configmaps" + ns,
      "delete serviceaccounts" + ns,
      "patch events" + ns,
      "create daemonsets.apps" + ns,
      "create configmaps" + ns,
      "update leases.coordination.k8s.io" + ns,
      "create tokenreviews.authentication.k8s.io",           // secure /metrics: who a token names
      "create subjectaccessreviews.authorization.k8s.io",  // and whether it may get /metrics
  };
  // RBAC reaches the authorizer through its informers: give it a moment.
  REQUIRE(cpo::testing::eventually([&] { return can(allowed.front()) && can(allowed.back()); }));
  for (const auto& what : allowed) {
    INFO("can-i " << what);
    CHECK(can(what));
  }
  const std::vector<std::string> denied = {
      "delete clusterpolicies.nvidia.com",
      "create clusterpolicies.nvidia.com",
      "patch clusterpolicies.nvidia.com",  // only its status
      "update configmaps" + ns,             // the user's config is never modified
      "list pods" + ns,
      "create rolebindings.rbac.authorization.k8s.io" + ns,
      "delete clusterroles.rbac.authorization.k8s.io/cluster-admin",  // only the one it renders
      "patch clusterrolebindings.rbac.authorization.k8s.io/cluster-admin",
      "update clusterroles.rbac.authorization.k8s.io",
      "delete nodes",
      "create runtimeclasses.node.k8s.io",
      "get secrets" + ns,
      "list leases.coordination.k8s.io" + ns,
      "create pods" + ns,
      "create daemonsets.apps -n default",
      "get configmaps -n default",
      "create deployments.apps" + ns,
  };
  for (const auto& what : denied) {
    INFO("can-i " << what);
    CHECK_FALSE(can(what));
  }

  // The operator can create the operands' RBAC because it holds what that RBAC grants
  // (RBAC refuses to let anyone grant more than they have).
  std::string operand = "crd-test-operand-" + random_suffix();
  CommandResult grant_node_read =
      as_operator("create clusterrole " + operand + " --verb=get,list,watch --resource=nodes --dry-run=server");
  INFO(grant_node_read.output);
  CHECK(grant_node_read.exit_code == 0);
  CommandResult escalate =
      as_operator("create clusterrole " + operand + " --verb=get --resource=secrets --dry-run=server");
  INFO(escalate.output);
  CHECK(escalate.exit_code != 0);
}
