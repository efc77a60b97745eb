"""Mutations of corpus configs for the differential fuzz run: values, key case, keys,
types, nulls, duplicated and dropped lines, nesting, document markers. Line-based and
deterministic for a given random.Random."""
import re

VALUES = ["null", "~", "", "true", "false", "yes", "no", "on", "Off", "y", "N", "TRUE", '"true"', "0", "1",
          "2", "-1", "010", "060", "0x10", "0o10", "+4", "4_000", "4.0", "4.5", "1e1", "2.0e0", ".inf", "48", "49",
          "16", "17", "99999999999", "9223372036854775808", '"4"', "!!int \"4\"", "!!str 4", "!!str true",
          "!foo x", "[]", "{}", "[envvar]", "[envvar, envvar]", "[null]", "[0]", "[1]", "envvar", "cdi-cri",
          "volume-mounts", "uuid", "index", "UUID", "none", "single", "mixed", "MIXED", "auto", "nvml", "tegra",
          "vfio", "distributed", "packed", "spread", "60s", "1m30s", "infinite", "Infinite", "10000000000h",
          "2562047h", "-5s", "0s", "60", "gpu", "nvidia.com/gpu", "mig-1g.5gb", "nvidia.com/mig-1g.5gb", "GPU",
          "gpu.shared", "Bad_Name", "other.com/gpu", "all", "ALL", "[0, 1]", '["0:1"]', "/run/nvidia/mps", '""',
          "v1", "v2", "V1", '"*"', "\"*A100*\"", "&a gpu", "*a"]
KEYS = ["version", "flags", "sharing", "resources", "imex", "migStrategy", "failOnInitError", "mpsRoot",
        "nvidiaDriverRoot", "nvidiaDevRoot", "gdsEnabled", "mofedEnabled", "gdrcopyEnabled", "useNodeFeatureAPI",
        "deviceDiscoveryStrategy", "plugin", "gfd", "passDeviceSpecs", "deviceListStrategy", "deviceIDStrategy",
        "cdiAnnotationPrefix", "nvidiaCTKPath", "containerDriverRoot", "sharedDevicesAllocationPolicy",
        "kubeletSocket", "oneshot", "noTimestamp", "sleepInterval", "outputFile", "timeSlicing", "mps",
        "renameByDefault", "failRequestsGreaterThanOne", "name", "replicas", "rename", "devices", "gpus", "mig",
        "pattern", "channelIDs", "required", "renameByDefaults", "replica", "health", "<<"]
KEY_LINE = re.compile(r"^(\s*(?:- )?)([^\s:#][^:#]*?)(:)(\s.*|)$")


def _key_case(rng, key):
    return rng.choice([key.lower(), key.upper(), key[:1].upper() + key[1:], key.swapcase()])


def _mutate_line(rng, lines):
    if not lines:
        return ["version: v1"]
    i = rng.randrange(len(lines))
    line = lines[i]
    m = KEY_LINE.match(line)
    op = rng.randrange(9)
    if op == 0 and m:  # a new value
        lines[i] = m.group(1) + m.group(2) + ": " + rng.choice(VALUES)
    elif op == 1 and m:  # the key in another case
        lines[i] = m.group(1) + _key_case(rng, m.group(2)) + ":" + m.group(4)
    elif op == 2 and m:  # another known key
        lines[i] = m.group(1) + rng.choice(KEYS) + ":" + m.group(4)
    elif op == 3:
        del lines[i]
    elif op == 4:
        lines.insert(i, line)
    elif op == 5 and m:  # a sibling key
        indent = re.match(r"\s*", line).group(0) + ("  " if m.group(1).endswith("- ") else "")
        lines.insert(i + 1, indent + rng.choice(KEYS) + ": " + rng.choice(VALUES))
    elif op == 6 and m and not m.group(4).strip():  # an emptied block
        lines[i] = m.group(1) + m.group(2) + ": " + rng.choice(["null", "{}", "[]", "~"])
    elif op == 7:
        lines.append(rng.choice(["---", "...", "--- # c", "---\nversion: v2"]))
    else:  # a whole known block
        lines.extend(rng.choice([
            "sharing:\n  mps:\n    resources:\n    - name: gpu\n      replicas: %s" % rng.choice(VALUES),
            "sharing:\n  timeSlicing:\n    resources:\n    - name: %s\n      replicas: 2" % rng.choice(VALUES),
            "flags:\n  plugin:\n    %s: %s" % (rng.choice(KEYS), rng.choice(VALUES)),
            "resources:\n  gpus:\n  - pattern: %s\n    name: %s" % (rng.choice(VALUES), rng.choice(VALUES)),
        ]).split("\n"))
    return lines


def variant(rng, corpus, name):
    """A mutated copy of a random corpus config (its MIG strategy kept)."""
    base = rng.choice(corpus)
    text = base.text.decode("utf-8", "replace")
    lines = text.split("\n")
    if lines and lines[0].startswith("# differential:"):
        lines = lines[1:]
    for _ in range(rng.randint(1, 3)):
        lines = _mutate_line(rng, lines)
    return base._replace(name=name, text=("\n".join(lines) + "\n").encode("utf-8"), source="fuzz")
