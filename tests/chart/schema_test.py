#!/usr/bin/env python3
"""values.schema.json and `helm lint --strict`, with real Helm:
  * lint --strict passes with the defaults, the user guide's --set and NVIDIA's values;
  * the schema accepts those three and refuses a wrong type or value in each key the
    chart uses, naming the key's path; keys the old chart layout had under operator:
    are refused with their new place.

  schema_test.py HELM REPO_DIR
"""

import os
import sys

from chartlib import Checks, Helm, yaml  # chartlib checks PyYAML is there

helm_binary, repo = sys.argv[1], sys.argv[2]
here = os.path.dirname(os.path.abspath(__file__))
chart = os.path.join(repo, "charts", "clusterpolicy-operator")
helm = Helm(helm_binary, chart)
check = Checks("schema")
nvidia_values = os.path.join(here, "nvidia-values.yaml")

accepted = {
    "defaults": [],
    "the user guide's --set devicePlugin.config.name=mps-config": ["--set", "devicePlugin.config.name=mps-config"],
    "NVIDIA's values (nvidia-values.yaml)": ["-f", nvidia_values],
}
for what, args in accepted.items():
    code, out, err = helm.run("lint", "--strict", chart, *args)
    check.true(f"helm lint --strict, {what}", code == 0 and "0 chart(s) failed" in out, out + err)
    objects, err = helm.template(*args)
    check.true(f"helm template, {what}", objects is not None, err)


def values_file(name, values):
    path = os.path.join(helm.home.name, name + ".yaml")
    with open(path, "w") as f:
        yaml.safe_dump(values, f)
    return path


# (what, helm arguments, text the error must contain: the offending key's path)
rejected = [
    ("devicePlugin.enabled as a string", ["--set-string", "devicePlugin.enabled=true"],
     "at '/devicePlugin/enabled': got string, want boolean"),
    ("gfd.enabled as a number", ["--set", "gfd.enabled=1"], "at '/gfd/enabled'"),
    ("mig.strategy not one of none/single/mixed", ["--set", "mig.strategy=bogus"], "at '/mig/strategy'"),
    ("daemonsets.updateStrategy unknown", ["--set", "daemonsets.updateStrategy=Always"],
     "at '/daemonsets/updateStrategy'"),
    ("daemonsets.rollingUpdate.maxUnavailable 0", ["--set", "daemonsets.rollingUpdate.maxUnavailable=0"],
     "at '/daemonsets/rollingUpdate/maxUnavailable'"),
    ("daemonsets.rollingUpdate.maxUnavailable not a number or percentage",
     ["--set-string", "daemonsets.rollingUpdate.maxUnavailable=lots"], "at '/daemonsets/rollingUpdate/maxUnavailable'"),
    ("daemonsets.tolerations as a map", ["--set", "daemonsets.tolerations.key=x"], "at '/daemonsets/tolerations'"),
    ("a toleration effect that does not exist", ["--set", "daemonsets.tolerations[0].effect=Sometimes"],
     "at '/daemonsets/tolerations/0/effect'"),
    ("daemonsets.labels value not a string", ["--set", "daemonsets.labels.tier=1"], "at '/daemonsets/labels/tier'"),
    ("devicePlugin.env value not a string",
     ["--set", "devicePlugin.env[0].name=FAIL_ON_INIT_ERROR", "--set", "devicePlugin.env[0].value=true"],
     "at '/devicePlugin/env/0/value'"),
    ("devicePlugin.env entry without a name", ["--set", "devicePlugin.env[0].value=x"], "at '/devicePlugin/env/0'"),
    ("devicePlugin.args item not a string", ["--set", "devicePlugin.args[0]=5"], "at '/devicePlugin/args/0'"),
    ("gfd.imagePullPolicy unknown", ["--set", "gfd.imagePullPolicy=Sometimes"], "at '/gfd/imagePullPolicy'"),
    ("devicePlugin.imagePullSecrets as Kubernetes objects", ["--set", "devicePlugin.imagePullSecrets[0].name=x"],
     "at '/devicePlugin/imagePullSecrets/0'"),
    ("devicePlugin.resources quantity", ["--set", "devicePlugin.resources.limits.memory=lots"],
     "at '/devicePlugin/resources/limits/memory'"),
    ("devicePlugin.config.name not a ConfigMap name", ["--set", "devicePlugin.config.name=MPS_Config"],
     "at '/devicePlugin/config/name'"),
    ("devicePlugin.config.create as a string", ["--set-string", "devicePlugin.config.create=yes"],
     "at '/devicePlugin/config/create'"),
    ("devicePlugin.config.data value a map, not the config's text",
     ["-f", values_file("data-map", {"devicePlugin": {"config": {"name": "c", "create": True,
                                                                 "data": {"mps-any": {"version": "v1"}}}}})],
     "at '/devicePlugin/config/data/mps-any'"),
    ("devicePlugin.mps.root relative", ["--set", "devicePlugin.mps.root=run/mps"], "at '/devicePlugin/mps/root'"),
    ("operator.runtimeClass not a string", ["--set", "operator.runtimeClass=5"], "at '/operator/runtimeClass'"),
    ("operator.defaultRuntime unknown", ["--set", "operator.defaultRuntime=podman"], "at '/operator/defaultRuntime'"),
    ("operator.use_ocp_driver_toolkit as a string", ["--set-string", "operator.use_ocp_driver_toolkit=true"],
     "at '/operator/use_ocp_driver_toolkit'"),
    ("operator.labels value not a string", ["--set", "operator.labels.tier=1"], "at '/operator/labels/tier'"),
    ("operator.image as the old chart's map", ["--set", "operator.image.repository=registry.example.com/cpo"],
     "at '/operator/image': got object, want string"),
    ("clusterPolicy.deployCR as a string", ["--set-string", "clusterPolicy.deployCR=false"],
     "at '/clusterPolicy/deployCR'"),
    ("clusterpolicyOperator.replicas not a number", ["--set", "clusterpolicyOperator.replicas=two"],
     "at '/clusterpolicyOperator/replicas'"),
    ("clusterpolicyOperator.replicas negative", ["--set", "clusterpolicyOperator.replicas=-1"],
     "at '/clusterpolicyOperator/replicas'"),
    ("clusterpolicyOperator.logFormat unknown", ["--set", "clusterpolicyOperator.logFormat=yaml"],
     "at '/clusterpolicyOperator/logFormat'"),
    ("clusterpolicyOperator.rolloutDeadline not a duration", ["--set", "clusterpolicyOperator.rolloutDeadline=soon"],
     "at '/clusterpolicyOperator/rolloutDeadline'"),
    ("a misspelt clusterpolicyOperator key", ["--set", "clusterpolicyOperator.imagee.tag=1.0"],
     "additional properties 'imagee' not allowed"),
    ("clusterpolicyOperator.metrics.service.port out of range",
     ["--set", "clusterpolicyOperator.metrics.service.port=70000"], "at '/clusterpolicyOperator/metrics/service/port'"),
]
for what, args, expected in rejected:
    objects, err = helm.template(*args)
    check.true(f"refused: {what} (error names {expected!r})", objects is None and expected in err, err.strip())
    code, out, lint_err = helm.run("lint", "--strict", chart, *args)
    check.true(f"helm lint --strict fails too: {what}", code != 0, out)

moved = [
    ("operator.replicas", ["--set", "operator.replicas=2"], "clusterpolicyOperator.replicas"),
    ("operator.createClusterPolicy", ["--set", "operator.createClusterPolicy=false"], "clusterPolicy.deployCR"),
    ("operator.serviceAccount", ["--set", "operator.serviceAccount.name=x"], "clusterpolicyOperator.serviceAccount"),
    ("operator.logFormat", ["--set", "operator.logFormat=json"], "clusterpolicyOperator.logFormat"),
]
for key, args, new_place in moved:
    objects, err = helm.template(*args)
    check.true(f"the old chart's {key} is refused, pointing to {new_place}",
               objects is None and f"{key} is not a key of this chart any more: use {new_place}" in err, err.strip())

check.finish()
