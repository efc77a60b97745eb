"""The differential corpus: the files of tests/oracle/corpus/, the data keys of the
examples' ConfigMaps, and the YAML of every row of the validator's unit-test tables
(read from the C++ sources, so that a new row joins the corpus by itself).

A corpus file whose first line is "# differential: --mig-strategy=X" is checked with
ClusterPolicy spec.mig.strategy X (MIG_STRATEGY=X for the oracle).
"""
import collections, glob, os, re

Case = collections.namedtuple("Case", "name text mig source")
MIG = re.compile(rb"# differential: --mig-strategy=(\w+)\n")


def _slug(text):
    return re.sub(r"[^A-Za-z0-9.]+", "-", text).strip("-")[:80]


def _c_string(literal):
    """The bytes of a sequence of C++ string literals (escapes as in the sources)."""
    out = b""
    for part in re.findall(r'"((?:[^"\\]|\\.)*)"', literal, re.S):
        out += part.encode("utf-8").decode("unicode_escape").encode("latin-1")
    return out


# {"name", yaml(R"(...)") | "literal" "literal" | kName, {expected...}[, "mig"]}
_ROW = re.compile(r'\{"((?:[^"\\]|\\.)+)",\s*(yaml\(R"\((.*?)\)"\)|((?:"(?:[^"\\]|\\.)*"\s*)+)|(k\w+))'
                  r'\s*,\s*\{(.*?)\}\s*(?:,\s*"(none|single|mixed)")?\s*\}', re.S)
_CONST = re.compile(r'const std::string (k\w+) = yaml\(R"\((.*?)\)"\);', re.S)


def unit_cases(repo):
    cases = []
    for path in sorted(glob.glob(os.path.join(repo, "tests/unit/deviceplugin/*_test.cpp"))):
        src = open(path, encoding="utf-8").read()
        consts = {m.group(1): m.group(2).lstrip("\n").encode() for m in _CONST.finditer(src)}
        for m in _ROW.finditer(src):
            if m.group(3) is not None:
                text = m.group(3).lstrip("\n").encode()
            elif m.group(4) is not None:
                text = _c_string(m.group(4))
            elif m.group(5) in consts:
                text = consts[m.group(5)]
            else:
                continue
            cases.append(Case("table-" + _slug(m.group(1)) + ".yaml", text, m.group(7), "unit tables"))
    return cases


def example_cases(repo):
    import yaml  # python3-yaml (scripts/install-deps)
    cases = []
    for path in sorted(glob.glob(os.path.join(repo, "examples/*.yaml"))):
        for doc in yaml.safe_load_all(open(path)):
            if isinstance(doc, dict) and doc.get("kind") == "ConfigMap":
                for key, value in sorted((doc.get("data") or {}).items()):
                    name = "example-%s-%s.yaml" % (os.path.basename(path)[:-5], _slug(key))
                    cases.append(Case(name, value.encode(), None, "examples"))
    return cases


def file_cases(directory):
    cases = []
    for path in sorted(glob.glob(os.path.join(directory, "*.yaml"))):
        text = open(path, "rb").read()
        m = MIG.match(text)
        cases.append(Case(os.path.basename(path), text, m.group(1).decode() if m else None, "corpus"))
    return cases


def load(repo):
    cases, seen = [], set()
    for c in file_cases(os.path.join(repo, "tests/oracle/corpus")) + example_cases(repo) + unit_cases(repo):
        name, i = c.name, 2
        while name in seen:
            name, i = "%s-%d.yaml" % (c.name[:-5], i), i + 1
        seen.add(name)
        cases.append(c._replace(name=name))
    return cases


def summary(cases):
    counts = collections.Counter(c.source for c in cases)
    return ", ".join("%d %s" % (n, s) for s, n in sorted(counts.items()))
