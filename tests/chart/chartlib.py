"""Helpers of the offline chart tests: run real Helm on the chart, parse what it renders,
and count checks that print what was expected and what was seen."""

import os
import subprocess
import sys
import tempfile

try:
    import yaml
except ImportError:  # Debian: python3-yaml
    sys.exit("the chart tests need PyYAML (Debian package python3-yaml)")


class Checks:
    """Collects pass/fail; every failure says what was expected and what was seen."""

    def __init__(self, name):
        self.name = name
        self.passed = 0
        self.failed = 0

    def equal(self, what, seen, expected):
        if seen == expected:
            self.passed += 1
            return True
        self.failed += 1
        print(f"FAILED: {what}\n  expected: {_show(expected)}\n  seen:     {_show(seen)}")
        return False

    def true(self, what, condition, seen=None):
        if condition:
            self.passed += 1
            return True
        self.failed += 1
        print(f"FAILED: {what}" + ("" if seen is None else f"\n  seen: {_show(seen)}"))
        return False

    def finish(self):
        print(f"{self.name}: {self.passed} passed, {self.failed} failed")
        sys.exit(1 if self.failed or not self.passed else 0)


def _show(value):
    text = yaml.safe_dump(value, default_flow_style=True, width=10**6).strip()
    return text if len(text) < 2000 else text[:2000] + " ..."


class Helm:
    """The real helm binary with its state in a temporary folder."""

    def __init__(self, binary, chart):
        self.binary = binary
        self.chart = chart
        self.home = tempfile.TemporaryDirectory(prefix="chart-test-helm-")
        self.env = dict(os.environ)
        for var in ("CACHE", "CONFIG", "DATA"):
            self.env[f"HELM_{var}_HOME"] = os.path.join(self.home.name, var.lower())

    def run(self, *args):
        """(exit code, stdout, stderr) of `helm ARGS`."""
        done = subprocess.run([self.binary, *args], env=self.env, capture_output=True, text=True)
        return done.returncode, done.stdout, done.stderr

    def template(self, *args, release="clusterpolicy-operator", namespace="gpu-operator"):
        """The objects `helm template` renders, or (None, stderr) when it fails."""
        code, out, err = self.run("template", release, self.chart, "--namespace", namespace, *args)
        if code != 0:
            return None, err
        return [doc for doc in yaml.safe_load_all(out) if doc], err


def by_kind(objects):
    """kind -> list of objects of that kind."""
    out = {}
    for obj in objects:
        out.setdefault(obj["kind"], []).append(obj)
    return out


def only(objects, kind):
    """The single object of `kind` (None when there is not exactly one)."""
    found = by_kind(objects).get(kind, [])
    return found[0] if len(found) == 1 else None


def container(deployment):
    return deployment["spec"]["template"]["spec"]["containers"][0]


def env_value(deployment, name):
    for item in container(deployment).get("env", []):
        if item["name"] == name:
            return item.get("value")
    return None
