// YAML <-> JSON: scalar typing on the way in, quoting and layout on the way out, and
// round trips that must give back exactly what went in.
#include "apimachinery/yaml_json.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

namespace cpo::apimachinery {
namespace {

using json = nlohmann::json;

json value_of(const std::string& scalar_text) { return yaml_to_json("v: " + scalar_text)["v"]; }

struct TypingCase {
  std::string yaml;
  json expected;
};

TEST_CASE("plain scalars take the YAML 1.2 core types, quoted ones stay strings", "[yaml_json]") {
  const std::vector<TypingCase> cases = {
      {"4", 4},
      {"\"4\"", "4"},
      {"'4'", "4"},
      {"-7", -7},
      {"+3", 3},
      {"0777", 777},
      {"0x1f", 31},
      {"0o17", 15},
      {"9223372036854775807", std::numeric_limits<std::int64_t>::max()},
      {"-9223372036854775808", std::numeric_limits<std::int64_t>::min()},
      {"18446744073709551615", std::numeric_limits<std::uint64_t>::max()},
      {"1.5", 1.5},
      {"-0.25", -0.25},
      {".5", 0.5},
      {"1.", 1.0},
      {"1e3", 1000.0},
      {"2.5E-3", 0.0025},
      {"true", true},
      {"True", true},
      {"FALSE", false},
      {"\"true\"", "true"},
      {"yes", "yes"},
      {"off", "off"},
      {"null", nullptr},
      {"Null", nullptr},
      {"~", nullptr},
      {"", nullptr},
      {"\"null\"", "null"},
      {"\"\"", ""},
      {"!!str 5", "5"},
      {"!!str true", "true"},
      {"!!int \"7\"", 7},
      {"!!float 1", 1.0},
      {"!!bool \"false\"", false},
      {"1.2.3", "1.2.3"},
      {"0x", "0x"},
      {"v1.0", "v1.0"},
      {"500m", "500m"},
      {"25%", "25%"},
      {"1_000", "1_000"},
      {"nvcr.io/nvidia/k8s-device-plugin:v0.17.1", "nvcr.io/nvidia/k8s-device-plugin:v0.17.1"},
      {"|\n  two\n  lines\n", "two\nlines\n"},
      {">-\n  folded\n  text\n", "folded text"},
  };
  for (const TypingCase& c : cases) {
    DYNAMIC_SECTION("v: " << c.yaml) {
      const json got = value_of(c.yaml);
      CHECK(got.type_name() == std::string(c.expected.type_name()));
      CHECK(got.type() == c.expected.type());
      CHECK(got == c.expected);
    }
  }
}

TEST_CASE("infinity and not-a-number read as floats", "[yaml_json]") {
  CHECK(value_of(".inf").get<double>() == std::numeric_limits<double>::infinity());
  CHECK(value_of("-.Inf").get<double>() == -std::numeric_limits<double>::infinity());
  CHECK(std::isnan(value_of(".nan").get<double>()));
}

TEST_CASE("an empty text or one with only comments is null", "[yaml_json]") {
  CHECK(yaml_to_json("").is_null());
  CHECK(yaml_to_json("# nothing here\n").is_null());
  CHECK(yaml_to_json("---\n").is_null());
  CHECK(yaml_documents_to_json("").empty());
}

TEST_CASE("several documents are read in order", "[yaml_json]") {
  const std::vector<json> documents = yaml_documents_to_json("---\na: 1\n---\nb: [x]\n---\n");
  REQUIRE(documents.size() == 3);
  CHECK(documents[0] == json{{"a", 1}});
  CHECK(documents[1] == json{{"b", {"x"}}});
  CHECK(documents[2].is_null());
}

TEST_CASE("aliases are expanded", "[yaml_json]") {
  CHECK(yaml_to_json("a: &x {k: 1}\nb: *x\n") == json{{"a", {{"k", 1}}}, {"b", {{"k", 1}}}});
}

struct ErrorCase {
  std::string name;
  std::string yaml;
  std::string message;
};

TEST_CASE("texts JSON cannot represent are errors with a location", "[yaml_json]") {
  const std::vector<ErrorCase> cases = {
      {"duplicate key", "a: 1\nb: 2\na: 3\n", "duplicate key \"a\" (line 3, column 1)"},
      {"non-scalar key", "? [a, b]\n: 1\n",
       "a mapping key must be a scalar, not a collection (line 1, column 3)"},
      {"unknown tag", "a: !secret x\n", "unsupported YAML tag !secret (line 1, column 4)"},
      {"bad !!int", "a: !!int ten\n", "!!int value \"ten\" is not an integer (line 1, column 4)"},
      {"two documents", "a: 1\n---\nb: 2\n", "expected one YAML document, found 2"},
      {"syntax", "a: [1, 2\n",
       "invalid YAML: did not find expected ',' or ']' while parsing a flow sequence (line 2, column 1)"},
  };
  for (const ErrorCase& c : cases) {
    DYNAMIC_SECTION(c.name) {
      try {
        (void)yaml_to_json(c.yaml);
        FAIL("no error for " << c.yaml);
      } catch (const YamlError& e) {
        CHECK(std::string(e.what()) == c.message);
      }
    }
  }
}

TEST_CASE("key order: sorted for json, as written for ordered_json", "[yaml_json]") {
  const std::string text = "zeta: 1\nalpha: 2\nmid: 3\n";
  CHECK(json_to_yaml(yaml_to_json(text)) == "alpha: 2\nmid: 3\nzeta: 1\n");
  CHECK(json_to_yaml(yaml_to_ordered_json(text)) == text);
}

struct QuoteCase {
  std::string value;
  std::string written;
};

TEST_CASE("strings are quoted exactly when they would read back as something else",
          "[yaml_json]") {
  const std::vector<QuoteCase> cases = {
      {"plain", "plain"},
      {"nvcr.io/nvidia/k8s-device-plugin:v0.17.1", "nvcr.io/nvidia/k8s-device-plugin:v0.17.1"},
      {"repo/image@sha256:abc", "repo/image@sha256:abc"},
      {"compute,utility", "compute,utility"},
      {"/run/nvidia/mps", "/run/nvidia/mps"},
      {"25%", "25%"},
      {"500m", "500m"},
      {"a:b", "a:b"},
      {"two words", "two words"},
      {"", "\"\""},
      {"true", "\"true\""},
      {"False", "\"False\""},
      {"yes", "\"yes\""},
      {"N", "\"N\""},
      {"on", "\"on\""},
      {"null", "\"null\""},
      {"~", "\"~\""},
      {"1", "\"1\""},
      {"-1", "\"-1\""},
      {"1.5", "\"1.5\""},
      {".5", "\".5\""},
      {"1e3", "\"1e3\""},
      {"0x10", "\"0x10\""},
      {"0o17", "\"0o17\""},
      {"1_000", "\"1_000\""},
      {"12:30", "\"12:30\""},
      {"2024-01-01", "\"2024-01-01\""},
      {".inf", "\".inf\""},
      {"- item", "\"- item\""},
      {"-x", "-x"},
      {"--flag=value", "--flag=value"},
      {"-", "\"-\""},
      {"---", "\"---\""},
      {": x", "\": x\""},
      {"key: value", "\"key: value\""},
      {"ends with:", "\"ends with:\""},
      {"a #comment", "\"a #comment\""},
      {"#hash", "\"#hash\""},
      {"*alias", "\"*alias\""},
      {"&anchor", "\"&anchor\""},
      {"!tag", "\"!tag\""},
      {"@at", "\"@at\""},
      {"{flow}", "\"{flow}\""},
      {"[flow]", "\"[flow]\""},
      {"'single'", "\"'single'\""},
      {"\"double\"", "\"\\\"double\\\"\""},
      {" leading", "\" leading\""},
      {"trailing ", "\"trailing \""},
      {"tab\there", "\"tab\\there\""},
      {"bell\x07", "\"bell\\x07\""},
      {"back\\slash", "back\\slash"},
      {"...", "\"...\""},
      {"<<", "\"<<\""},
  };
  for (const QuoteCase& c : cases) {
    DYNAMIC_SECTION("[" << c.value << "]") {
      const json object = {{"v", c.value}};
      const std::string yaml = json_to_yaml(object);
      CHECK(yaml == "v: " + c.written + "\n");
      CHECK(yaml_to_json(yaml) == object);  // and it reads back as the same string
    }
  }
}

// Found by fuzzing: a string holding a C1 control character (read from "\x80") was
// written as it is, and no YAML parser reads that back. Code points YAML cannot carry
// raw are escaped; the ones it reads as line breaks, too.
TEST_CASE("non-printable and line-breaking code points are escaped", "[yaml_json]") {
  const std::vector<QuoteCase> cases = {
      {"\r\u0080" "8", "\"\\r\\x808\""},
      {"c1 \u009f", "\"c1 \\x9f\""},
      {"next\u0085line", "\"next\\Nline\""},
      {"line\u2028sep", "\"line\\Lsep\""},
      {"para\u2029sep", "\"para\\Psep\""},
      {"\ufeffbom", "\"\\uFEFFbom\""},
      {"non\uffffchar", "\"non\\uFFFFchar\""},
      {"multi\nline \u0080\n", "\"multi\\nline \\x80\\n\""},
      {"caf\u00e9 \u2603", "caf\u00e9 \u2603"},  // printable: as it is
  };
  for (const QuoteCase& c : cases) {
    DYNAMIC_SECTION(json(c.value).dump()) {
      const json object = {{"v", c.value}, {c.value, 1}};
      const std::string yaml = json_to_yaml(json{{"v", c.value}});
      CHECK(yaml == "v: " + c.written + "\n");
      CHECK(yaml_to_json(json_to_yaml(object)) == object);  // values and keys read back
    }
  }
}

TEST_CASE("keys are quoted by the same rule", "[yaml_json]") {
  const json object = {{"true", 1}, {"nvidia.com/gpu", 2}, {"", 3}, {"a: b", 4}};
  const std::string yaml = json_to_yaml(object);
  CHECK(yaml == "\"\": 3\n\"a: b\": 4\nnvidia.com/gpu: 2\n\"true\": 1\n");
  CHECK(yaml_to_json(yaml) == object);
}

TEST_CASE("multi-line strings become literal blocks with the right chomping", "[yaml_json]") {
  const std::vector<QuoteCase> cases = {
      {"line1\nline2\n", "|\n  line1\n  line2\n"},
      {"line1\nline2", "|-\n  line1\n  line2\n"},
      {"line1\n\n", "|+\n  line1\n\n"},
      {"a\n\n  indented\nb\n", "|\n  a\n\n    indented\n  b\n"},
      {"\nstarts empty", "|-\n\n  starts empty\n"},
      {"with\ttab\n", "|\n  with\ttab\n"},
      // Not representable as a literal block: double quotes with escapes.
      {" leading blank\nx", "\" leading blank\\nx\""},
      {"trailing blank \nx", "\"trailing blank \\nx\""},
      {"\n\n", "\"\\n\\n\""},
      {"carriage\r\nreturn", "\"carriage\\r\\nreturn\""},
  };
  for (const QuoteCase& c : cases) {
    DYNAMIC_SECTION(json(c.value).dump()) {
      const json object = {{"v", c.value}};
      const std::string yaml = json_to_yaml(object);
      CHECK(yaml == "v: " + c.written + (c.written.back() == '\n' ? "" : "\n"));
      CHECK(yaml_to_json(yaml) == object);
    }
  }
}

TEST_CASE("numbers, booleans and null are written so they read back with their type",
          "[yaml_json]") {
  const json object = {{"int", 42},
                       {"negative", -3},
                       {"big", std::numeric_limits<std::uint64_t>::max()},
                       {"float", 2.0},
                       {"fraction", 0.1},
                       {"huge", 1e20},
                       {"yes", true},
                       {"no", false},
                       {"nothing", nullptr}};
  const std::string yaml = json_to_yaml(object);
  CHECK(yaml ==
        "big: 18446744073709551615\n"
        "float: 2.0\n"
        "fraction: 0.1\n"
        "huge: 1e+20\n"
        "int: 42\n"
        "negative: -3\n"
        "\"no\": false\n"  // YAML 1.1 reads the bare words no/yes as booleans
        "nothing: null\n"
        "\"yes\": true\n");
  const json back = yaml_to_json(yaml);
  CHECK(back == object);
  CHECK(back["float"].is_number_float());
  CHECK(back["huge"].is_number_float());
  CHECK(back["int"].is_number_integer());
  CHECK(back["big"].is_number_unsigned());
}

TEST_CASE("nested collections use kubectl's block layout", "[yaml_json]") {
  nlohmann::ordered_json object = nlohmann::ordered_json::parse(R"({
    "spec": {
      "containers": [
        {"name": "main", "args": ["--flag", "1"], "env": [{"name": "A", "value": "true"}]},
        {"name": "sidecar", "securityContext": {"privileged": true}}
      ],
      "matrix": [[1, 2], [], [{"k": "v"}]],
      "empty": {},
      "none": []
    }
  })");
  const std::string expected =
      "spec:\n"
      "  containers:\n"
      "  - name: main\n"
      "    args:\n"
      "    - --flag\n"
      "    - \"1\"\n"
      "    env:\n"
      "    - name: A\n"
      "      value: \"true\"\n"
      "  - name: sidecar\n"
      "    securityContext:\n"
      "      privileged: true\n"
      "  matrix:\n"
      "  - - 1\n"
      "    - 2\n"
      "  - []\n"
      "  - - k: v\n"
      "  empty: {}\n"
      "  none: []\n";
  CHECK(json_to_yaml(object) == expected);
  CHECK(yaml_to_ordered_json(expected) == object);
}

TEST_CASE("top-level values of every kind are written and read back", "[yaml_json]") {
  for (const json& value :
       {json(nullptr), json(true), json(7), json("text"), json("multi\nline\n"), json::object(),
        json::array(), json::array({1, "two", json::array({3})})}) {
    DYNAMIC_SECTION(value.dump()) { CHECK(yaml_to_json(json_to_yaml(value)) == value); }
  }
}

TEST_CASE("a manifest-shaped document survives a round trip unchanged", "[yaml_json]") {
  const std::string text = R"(apiVersion: v1
kind: ConfigMap
metadata:
  name: mps-config-all
  labels:
    "nvidia.com/flag": "true"
    count: "3"
data:
  mps-any: |-
    version: v1
    sharing:
      mps:
        resources:
        - name: nvidia.com/gpu
          replicas: 4
  empty: ""
  quoted: 'it''s'
  unicode: "grüße – ok"
  escapes: "tab\tand \"quotes\" and \\ backslash"
list:
- [1, 2.5, -3]
- {a: null, b: ~, c: false}
- - nested
  - - deeper
)";
  const nlohmann::ordered_json first = yaml_to_ordered_json(text);
  CHECK(first["metadata"]["labels"]["count"] == "3");
  CHECK(first["data"]["mps-any"].get<std::string>().find("replicas: 4") != std::string::npos);
  const std::string written = json_to_yaml(first);
  const nlohmann::ordered_json second = yaml_to_ordered_json(written);
  CHECK(second == first);
  CHECK(json_to_yaml(second) == written);  // writing is stable
}

}  // namespace
}  // namespace cpo::apimachinery
