#!/usr/bin/env python3
"""The chart as `helm template` renders it, offline, with real Helm:
  * the defaults, the user guide's --set devicePlugin.config.name=mps-config, and a
    values file written for NVIDIA's chart (nvidia-values.yaml) give the ClusterPolicy
    NVIDIA's chart would give for the keys this operator manages, and our own image;
  * each NVIDIA key the operator manages lands where NVIDIA's chart puts it;
  * devicePlugin.config.create makes the ConfigMap only with data;
  * the operator Deployment (ServiceAccount, restricted security context, probes,
    resources, leader election with replicas > 1).

  template_test.py HELM REPO_DIR
"""

import os
import sys

from chartlib import Checks, Helm, by_kind, container, env_value, only, yaml  # chartlib checks PyYAML is there

helm_binary, repo = sys.argv[1], sys.argv[2]
here = os.path.dirname(os.path.abspath(__file__))
chart = os.path.join(repo, "charts", "clusterpolicy-operator")
helm = Helm(helm_binary, chart)
check = Checks("template")
app_version = yaml.safe_load(open(os.path.join(chart, "Chart.yaml")))["appVersion"]
nvidia_values = os.path.join(here, "nvidia-values.yaml")


def render(*args, **kwargs):
    objects, err = helm.template(*args, **kwargs)
    if objects is None:
        check.true(f"helm template {' '.join(args)} succeeds", False, err.strip())
        return []
    return objects


def spec_of(objects):
    policy = only(objects, "ClusterPolicy")
    return None if policy is None else policy.get("spec")


GPU_TOLERATION = {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}
DEFAULT_DAEMONSETS = {
    "priorityClassName": "system-node-critical",
    "tolerations": [GPU_TOLERATION],
    "updateStrategy": "RollingUpdate",
    "rollingUpdate": {"maxUnavailable": "1"},
}
DEFAULT_IMAGE = {
    "repository": "nvcr.io/nvidia",
    "image": "k8s-device-plugin",
    "version": "v0.20.0",
    "imagePullPolicy": "IfNotPresent",
}
# What NVIDIA's clusterpolicy.yaml writes for these sections with the chart's defaults.
DEFAULT_SPEC = {
    "operator": {"runtimeClass": "nvidia"},
    "daemonsets": DEFAULT_DAEMONSETS,
    "devicePlugin": {"enabled": True, **DEFAULT_IMAGE},
    "gfd": {"enabled": True, **DEFAULT_IMAGE},
    "mig": {"strategy": "single"},
}

# --- defaults -------------------------------------------------------------------------
objects = render()
kinds = by_kind(objects)
check.equal("default objects", sorted(kinds),
            sorted(["ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding", "Service",
                    "Deployment", "ClusterPolicy"]))
check.equal("default ClusterPolicy spec (NVIDIA's chart writes the same)", spec_of(objects), DEFAULT_SPEC)
policy = only(objects, "ClusterPolicy")
check.equal("the ClusterPolicy is named as NVIDIA's", policy and policy["metadata"]["name"], "cluster-policy")

account = only(objects, "ServiceAccount")
check.equal("ServiceAccount name (not NVIDIA's gpu-operator)", account["metadata"]["name"], "clusterpolicy-operator")
check.equal("ServiceAccount namespace", account["metadata"]["namespace"], "gpu-operator")
deployment = only(objects, "Deployment")
pod = deployment["spec"]["template"]["spec"]
check.equal("the Deployment runs as the chart's ServiceAccount", pod["serviceAccountName"], "clusterpolicy-operator")
for kind in ("ClusterRoleBinding", "RoleBinding"):
    binding = only(objects, kind)
    check.equal(f"{kind} subject", binding["subjects"],
                [{"kind": "ServiceAccount", "name": "clusterpolicy-operator", "namespace": "gpu-operator"}])
    role_kind = kind.replace("Binding", "")
    roles = [o for o in kinds[role_kind] if not o["metadata"]["name"].endswith("-metrics-reader")]
    check.equal(f"{kind} names the chart's {role_kind}", binding["roleRef"]["name"],
                roles[0]["metadata"]["name"] if len(roles) == 1 else roles)
readers = [o for o in kinds["ClusterRole"] if o["metadata"]["name"].endswith("-metrics-reader")]
check.equal("a ClusterRole for scrapers of the HTTPS /metrics", [r["rules"] for r in readers],
            [[{"nonResourceURLs": ["/metrics"], "verbs": ["get"]}]])
main = container(deployment)
check.equal("our image, tagged with the appVersion", main["image"], f"clusterpolicy-operator:{app_version}")
check.equal("one replica", deployment["spec"]["replicas"], 1)
check.equal("one replica: no leader election", main["args"],
            ["run", "--health-probe-bind-address=:8081", "--metrics-bind-address=:8443", "--log-format=text",
             "--rollout-deadline=10m"])
check.equal("one replica: Recreate, never two operators at once", deployment["spec"].get("strategy"),
            {"type": "Recreate"})
check.equal("pod security context", pod["securityContext"],
            {"runAsNonRoot": True, "runAsUser": 65532, "runAsGroup": 65532,
             "seccompProfile": {"type": "RuntimeDefault"}})
check.equal("container security context", main["securityContext"],
            {"runAsNonRoot": True, "allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
             "capabilities": {"drop": ["ALL"]}})
ports = {p["name"]: p["containerPort"] for p in main["ports"]}
check.equal("ports", ports, {"metrics": 8443, "health": 8081})
check.equal("liveness probe", main["livenessProbe"]["httpGet"], {"path": "/healthz", "port": "health"})
check.equal("readiness probe", main["readinessProbe"]["httpGet"], {"path": "/readyz", "port": "health"})
check.equal("resources", main["resources"],
            {"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"cpu": "500m", "memory": "256Mi"}})
check.equal("operand image defaults follow devicePlugin.*", env_value(deployment, "DEVICE_PLUGIN_IMAGE"),
            "nvcr.io/nvidia/k8s-device-plugin:v0.20.0")
check.true("no ConfigMap without devicePlugin.config.create", "ConfigMap" not in kinds)

# --- replicas > 1: leader election -----------------------------------------------------
for replicas in (2, 3):
    objects = render("--set", f"clusterpolicyOperator.replicas={replicas}")
    deployment = only(objects, "Deployment")
    check.equal(f"replicas {replicas}", deployment["spec"]["replicas"], replicas)
    check.true(f"replicas {replicas}: --leader-elect", "--leader-elect" in container(deployment)["args"],
               container(deployment)["args"])
    check.equal(f"replicas {replicas}: rolling update", deployment["spec"].get("strategy"), None)

# --- the user guide: --set devicePlugin.config.name=mps-config --------------------------
objects = render("--set", "devicePlugin.config.name=mps-config")
check.equal("guide's --set: spec.devicePlugin.config, default \"\" written as NVIDIA's chart does",
            spec_of(objects)["devicePlugin"].get("config"), {"name": "mps-config", "default": ""})
check.true("guide's --set: the ConfigMap is the user's, not created", "ConfigMap" not in by_kind(objects))
objects = render("--set", "devicePlugin.config.name=mps-config-all", "--set", "devicePlugin.config.default=mps-any")
check.equal("config name and default", spec_of(objects)["devicePlugin"].get("config"),
            {"name": "mps-config-all", "default": "mps-any"})
objects = render("--set", "devicePlugin.config.default=mps-any")
check.true("a default without a name writes no config (as NVIDIA's chart)",
           "config" not in spec_of(objects)["devicePlugin"], spec_of(objects)["devicePlugin"])

# --- NVIDIA's values file --------------------------------------------------------------
objects = render("-f", nvidia_values, release="gpu-operator")
TOLERATIONS = [GPU_TOLERATION, {"key": "dedicated", "operator": "Equal", "value": "gpu", "effect": "NoExecute",
                                "tolerationSeconds": 3600}]
NVIDIA_SPEC = {
    "operator": {"runtimeClass": "nvidia-cdi"},
    "daemonsets": {
        "labels": {"team": "gpu-platform"},
        "annotations": {"example.com/owner": "gpu-team"},
        "priorityClassName": "system-node-critical",
        "tolerations": TOLERATIONS,
        "updateStrategy": "RollingUpdate",
        "rollingUpdate": {"maxUnavailable": "25%"},
    },
    "devicePlugin": {
        "enabled": True,
        "repository": "registry.example.com/nvidia",
        "image": "k8s-device-plugin",
        "version": "v0.20.1",
        "imagePullPolicy": "Always",
        "imagePullSecrets": ["example-registry"],
        "args": ["--fail-on-init-error=false"],
        "env": [{"name": "DEVICE_LIST_STRATEGY", "value": "envvar"}, {"name": "PASS_DEVICE_SPECS", "value": "true"}],
        "resources": {"limits": {"memory": "512Mi"}, "requests": {"cpu": "100m", "memory": "128Mi"}},
        "config": {"name": "mps-config-all", "default": ""},
    },
    "gfd": {
        "enabled": True,
        "repository": "registry.example.com/nvidia",
        "image": "k8s-device-plugin",
        "version": "v0.20.1",
        "imagePullPolicy": "IfNotPresent",
        "env": [{"name": "GFD_SLEEP_INTERVAL", "value": "60s"}],
    },
    "mig": {"strategy": "mixed"},
}
check.equal("NVIDIA values: the ClusterPolicy spec NVIDIA's chart writes for the managed keys",
            spec_of(objects), NVIDIA_SPEC)
kinds = by_kind(objects)
check.true("NVIDIA values: config.create false makes no ConfigMap", "ConfigMap" not in kinds)
deployment = only(objects, "Deployment")
main = container(deployment)
check.equal("NVIDIA values: our image, never NVIDIA's operator.repository/image/version", main["image"],
            f"clusterpolicy-operator:{app_version}")
check.equal("NVIDIA values: NVIDIA's operator.resources are not ours", main["resources"],
            {"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"cpu": "500m", "memory": "256Mi"}})
check.true("NVIDIA values: NVIDIA's operator env, nodeSelector, tolerations are not ours",
           env_value(deployment, "DEFAULT_GPU_ALLOCATION_MODE") is None
           and "nodeSelector" not in deployment["spec"]["template"]["spec"]
           and "tolerations" not in deployment["spec"]["template"]["spec"]
           and "imagePullSecrets" not in deployment["spec"]["template"]["spec"],
           deployment["spec"]["template"]["spec"])
check.equal("NVIDIA values: operator.annotations annotate the operator pod",
            deployment["spec"]["template"]["metadata"].get("annotations"),
            {"openshift.io/scc": "restricted-readonly"})
check.equal("NVIDIA values: operand images from devicePlugin.*/gfd.*",
            (env_value(deployment, "DEVICE_PLUGIN_IMAGE"), env_value(deployment, "GFD_IMAGE")),
            ("registry.example.com/nvidia/k8s-device-plugin:v0.20.1",
             "registry.example.com/nvidia/k8s-device-plugin:v0.20.1"))
unlabelled = [f"{o['kind']}/{o['metadata']['name']}" for o in objects
              if o["metadata"].get("labels", {}).get("cost-center") != "ml-42"]
check.equal("NVIDIA values: operator.labels on every chart object", unlabelled, [])
check.equal("NVIDIA values: operator.labels on the operator pod",
            deployment["spec"]["template"]["metadata"]["labels"].get("cost-center"), "ml-42")
account = only(objects, "ServiceAccount")["metadata"]["name"]
check.equal("release gpu-operator: the ServiceAccount is still not NVIDIA's gpu-operator", account,
            "gpu-operator-clusterpolicy-operator")

# --- each managed key lands where NVIDIA's chart puts it --------------------------------
cases = [
    (["--set", "operator.use_ocp_driver_toolkit=true"], ["operator", "use_ocp_driver_toolkit"], True),
    (["--set", "operator.use_ocp_driver_toolkit=false"], ["operator", "use_ocp_driver_toolkit"], None),
    (["--set", "operator.defaultRuntime=containerd"], ["operator", "defaultRuntime"], "containerd"),
    (["--set", "operator.runtimeClass="], ["operator"], None),
    (["--set", "operator.initContainer.repository=nvcr.io/nvidia", "--set", "operator.initContainer.image=cuda",
      "--set", "operator.initContainer.version=12.5.1-base-ubi8"], ["operator", "initContainer"],
     {"repository": "nvcr.io/nvidia", "image": "cuda", "version": "12.5.1-base-ubi8"}),
    (["--set", "operator.labels.team=gpu"], ["operator", "labels"], None),
    (["--set", "operator.annotations.team=gpu"], ["operator", "annotations"], None),
    (["--set", "devicePlugin.hostNetwork=true"], ["devicePlugin", "hostNetwork"], True),
    (["--set", "devicePlugin.hostNetwork=false"], ["devicePlugin", "hostNetwork"], None),
    (["--set", "gfd.hostNetwork=true"], ["gfd", "hostNetwork"], None),
    (["--set", "devicePlugin.enabled=false"], ["devicePlugin", "enabled"], False),
    (["--set", "gfd.enabled=false"], ["gfd", "enabled"], False),
    (["--set", "devicePlugin.mps.root=/var/run/nvidia-mps"], ["devicePlugin", "mps"], {"root": "/var/run/nvidia-mps"}),
    ([], ["devicePlugin", "mps"], None),
    (["--set", "daemonsets.rollingUpdate.maxUnavailable=2"], ["daemonsets", "rollingUpdate"], {"maxUnavailable": "2"}),
    (["--set", "daemonsets.updateStrategy=OnDelete"], ["daemonsets", "updateStrategy"], "OnDelete"),
    (["--set", "daemonsets.priorityClassName="], ["daemonsets", "priorityClassName"], None),
    (["--set", "daemonsets.labels.team=gpu"], ["daemonsets", "labels"], {"team": "gpu"}),
    (["--set", "devicePlugin.version=v0.19.2", "--set", "gfd.version=v0.19.2"], ["gfd", "version"], "v0.19.2"),
    (["--set", "mig.strategy="], ["mig"], None),
    (["--set", "mig.strategy=none"], ["mig"], {"strategy": "none"}),
]
for args, path, expected in cases:
    spec = spec_of(render(*args)) or {}
    seen = spec
    for key in path:
        seen = seen.get(key) if isinstance(seen, dict) else None
    check.equal(f"{' '.join(args) or 'defaults'}: spec.{'.'.join(path)}", seen, expected)

objects = render("--set", "clusterPolicy.deployCR=false")
check.true("clusterPolicy.deployCR=false: no ClusterPolicy", "ClusterPolicy" not in by_kind(objects))
check.true("clusterPolicy.deployCR=false: the operator is still installed", only(objects, "Deployment") is not None)

objects = render("--set", "clusterpolicyOperator.image.repository=registry.example.com/cpo",
                 "--set", "clusterpolicyOperator.image.tag=1.2.3", "--set", "clusterpolicyOperator.serviceAccount.name=cpo",
                 "--set", "clusterpolicyOperator.logLevel=debug", "--set", "clusterpolicyOperator.podAnnotations.a=b",
                 "--set", "operator.annotations.a=from-operator", "--set", "operator.annotations.c=d")
deployment = only(objects, "Deployment")
check.equal("clusterpolicyOperator.image", container(deployment)["image"], "registry.example.com/cpo:1.2.3")
check.equal("clusterpolicyOperator.serviceAccount.name", only(objects, "ServiceAccount")["metadata"]["name"], "cpo")
check.equal("the Deployment runs as the named ServiceAccount",
            deployment["spec"]["template"]["spec"]["serviceAccountName"], "cpo")
check.equal("the bindings name it", only(objects, "RoleBinding")["subjects"][0]["name"], "cpo")
check.true("clusterpolicyOperator.logLevel", "--log-level=debug" in container(deployment)["args"])
check.equal("podAnnotations win over operator.annotations", deployment["spec"]["template"]["metadata"]["annotations"],
            {"a": "b", "c": "d"})

# --- devicePlugin.config.create -------------------------------------------------------
config_values = os.path.join(helm.home.name, "config-values.yaml")
mps_any = "version: v1\nsharing:\n  mps:\n    resources:\n    - name: nvidia.com/gpu\n      replicas: 4"
with open(config_values, "w") as f:
    yaml.safe_dump({"devicePlugin": {"config": {"create": True, "name": "mps-config-all", "default": "mps-any",
                                                "data": {"mps-any": mps_any, "plain": "version: v1"}}}}, f)
objects = render("-f", config_values)
configmap = only(objects, "ConfigMap")
check.true("create=true with data: one ConfigMap", configmap is not None, sorted(by_kind(objects)))
if configmap:
    check.equal("its name and namespace", (configmap["metadata"]["name"], configmap["metadata"]["namespace"]),
                ("mps-config-all", "gpu-operator"))
    check.equal("its data, each config's YAML text as written", configmap["data"],
                {"mps-any": mps_any, "plain": "version: v1"})
check.equal("the ClusterPolicy names it", spec_of(objects)["devicePlugin"]["config"],
            {"name": "mps-config-all", "default": "mps-any"})
objects = render("--set", "devicePlugin.config.create=true", "--set", "devicePlugin.config.name=existing")
check.true("create=true with empty data: no ConfigMap (as NVIDIA's chart)", "ConfigMap" not in by_kind(objects),
           sorted(by_kind(objects)))
none, err = helm.template("--set", "devicePlugin.config.create=true", "--set", "devicePlugin.config.data.a=b")
check.true("create=true with data but no name: refused, naming the key",
           none is None and "devicePlugin.config.name" in err, err.strip())

# YAML the project ships holds no key twice (PyYAML and Helm would silently keep the last).
class _StrictLoader(yaml.SafeLoader):
    pass


def _strict_mapping(loader, node, deep=False):
    keys = [loader.construct_object(key, deep=deep) for key, _ in node.value]
    repeated = sorted({str(k) for k in keys if keys.count(k) > 1})
    if repeated:
        raise yaml.constructor.ConstructorError(None, None, f"keys given twice: {', '.join(repeated)}", node.start_mark)
    return yaml.SafeLoader.construct_mapping(loader, node, deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _strict_mapping)
shipped = [os.path.join(repo, "crds", f) for f in sorted(os.listdir(os.path.join(repo, "crds")))]
shipped += [os.path.join(repo, "examples", f) for f in sorted(os.listdir(os.path.join(repo, "examples")))]
shipped += [os.path.join(repo, "manifests", "install.yaml"), os.path.join(chart, "values.yaml")]
shipped += [os.path.join(chart, "files", f) for f in sorted(os.listdir(os.path.join(chart, "files")))]
for path in shipped:
    if not path.endswith(".yaml"):
        continue
    try:
        list(yaml.load_all(open(path), Loader=_StrictLoader))
        problem = None
    except yaml.YAMLError as e:
        problem = str(e)
    check.true(f"{os.path.relpath(path, repo)} holds no key twice", problem is None, problem)

check.finish()
