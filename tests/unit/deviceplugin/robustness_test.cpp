// Hostile or huge documents: refused before the YAML parser recurses or allocates
// much, or (aliases) before the validator walks an expansion, with a clear message.
#include "support.hpp"

#include <catch2/catch.hpp>

#include <chrono>

namespace cpo::deviceplugin::test {
namespace {

std::string repeat(std::string_view piece, int times) {
  std::string out;
  for (int i = 0; i < times; ++i) out += piece;
  return out;
}

std::string nested_block_mappings(int levels) {
  std::string out;
  for (int i = 0; i < levels; ++i) out += std::string(static_cast<std::size_t>(i), ' ') + "k:\n";
  return out;
}

const std::string kTooDeep = "error: cfg: the config nests deeper than 64 levels; refusing to parse it";

void run(const std::vector<DocumentCase>& cases) {
  for (const DocumentCase& c : cases) {
    DYNAMIC_SECTION(c.name) { CHECK(validate_lines(c) == c.expected); }
  }
}

TEST_CASE("nesting bombs are refused before parsing", "[devicepluginconfig][robustness]") {
  run({
      {"10,000 flow sequences", repeat("[", 10000), {kTooDeep + " (line 1, column 64)"}},
      {"10,000 flow mappings", "a: " + repeat("{a: ", 10000), {kTooDeep + " (line 1, column 256)"}},
      {"10,000 compact block sequences", repeat("- ", 10000) + "x\n", {kTooDeep + " (line 1, column 127)"}},
      {"flow nesting spread over lines", "a:\n" + repeat(" [\n", 10000), {kTooDeep + " (line 64, column 2)"}},
      {"100 indented mappings", nested_block_mappings(100), {kTooDeep + " (line 65, column 65)"}},
      {"brackets after a block scalar ends", "flags:\n  mpsRoot: |\n      /run\n    " + repeat("[", 70),
       {kTooDeep + " (line 4, column 66)"}},
      {"60 indented mappings are parsed",
       nested_block_mappings(60),
       {"error: cfg: k: unknown field \"k\", which the consumers ignore (line 1, column 1)"}},
  });
}

TEST_CASE("aliases are read within bounds", "[devicepluginconfig][robustness]") {
  std::string laughs = "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n";
  for (char c = 'b'; c <= 'z'; ++c) {
    const char p = static_cast<char>(c - 1);
    laughs += std::string(1, c) + ": &" + c + " [*" + p + ",*" + p + ",*" + p + ",*" + p + ",*" + p +
              ",*" + p + ",*" + p + ",*" + p + ",*" + p + "]\n";
  }
  const std::string kBeyond =
      "error: cfg: YAML aliases expand the config by more than 10000 nodes or use more than 256 aliases; "
      "refusing to read it (write the values out)";
  std::string many_aliases = "flags:\n  mpsRoot: &r /run\n  plugin:\n    deviceListStrategy: [";
  for (int i = 0; i < 300; ++i) many_aliases += "*r, ";
  many_aliases += "envvar]\n";
  run({
      {"billion laughs", laughs, {kBeyond}},
      {"300 aliases", many_aliases, {kBeyond}},
      {"an undefined alias", "version: *v\n",
       {"error: cfg: invalid YAML: the referenced anchor is not defined (line 1, column 10)"}},
      {"an anchor on a key", "&k version: v1\n", {}},
      {"an alias in a flow list, read as its value", "flags:\n  plugin:\n    deviceListStrategy: [&e envvar, *e]\n",
       {"warning: cfg: flags.plugin.deviceListStrategy[1]: duplicate value \"envvar\" (harmless: the consumers apply it once) (line 3, column 26)"},
       std::nullopt, Env::Bare},
      {"a small expansion is checked where it is used", "x: &bad {replicas: 1, name: gpu}\n",
       {"error: cfg: x: unknown field \"x\", which the consumers ignore (line 1, column 1)"}},
      {"& and * inside quotes, comments, plain and block scalars are text", yaml(R"(
# &not-an-anchor *not-an-alias [[[[
flags:
  nvidiaDriverRoot: "/run/*/&driver [["
  nvidiaDevRoot: 'it''s *here'
  plugin:
    cdiAnnotationPrefix: |
      *not an alias
      &not an anchor [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[
    nvidiaCTKPath: /usr/bin/nvidia-ctk  # [[[[ {{{{
)"),
       {}},
  });
}

// Scalars over several lines are read as the parser reads them; the nesting bound
// still holds after them, and a continuation line that holds ": " counts as structure.
TEST_CASE("values spanning lines", "[devicepluginconfig][robustness]") {
  run({
      {"a quoted string over two lines", "flags:\n  nvidiaDriverRoot: \"/run/\n    nvidia\"\n", {}},
      {"a plain value over two lines", "flags:\n  nvidiaDriverRoot: /run\n    /nvidia\n", {}},
      {"a plain value over two lines, then brackets", "flags:\n  nvidiaDriverRoot: word\n    'x\nversion: " + repeat("[", 100),
       {kTooDeep + " (line 4, column 73)"}},
      {"a quoted string over lines hides no nesting", "flags:\n  nvidiaDriverRoot: \"a\n" + repeat("[", 100) + "\"\n", {}},
      {"a continuation with \": \" is structure", "a: b\n  c: " + repeat("[", 100),
       {kTooDeep + " (line 2, column 68)"}},
      {"a flow list item over two lines", "flags:\n  plugin:\n    deviceListStrategy: [envvar\n      cdi-cri]\n",
       {"error: cfg: flags.plugin.deviceListStrategy[0]: must be one of envvar, volume-mounts, cdi-annotations, cdi-cri, got \"envvar cdi-cri\" (line 3, column 26)"},
       std::nullopt, Env::Bare},
      {"a block entry inside a flow list", "flags:\n  plugin:\n    deviceListStrategy: [- envvar]\n",
       {"error: cfg: invalid YAML: a \"- \" entry inside a flow collection (line 3, column 26)"}},
      {"a flow list over several lines is fine", "flags:\n  plugin:\n    deviceListStrategy: [envvar,\n      cdi-cri  # CRI\n    ]\n",
       {}, std::nullopt, Env::Bare},
      {"a mapping entry after a sequence item is fine", "sharing:\n  mps:\n    resources:\n    - name: gpu\n      replicas: 2\n",
       {}},
  });
}

TEST_CASE("large documents and values", "[devicepluginconfig][robustness]") {
  SECTION("a 1 MiB value is refused by size") {
    const std::string text = "version: \"" + std::string(1024 * 1024, 'v') + "\"\n";
    CHECK(validate_lines({"", text, {}}) ==
          std::vector<std::string>{"error: cfg: the config is 1048588 bytes; at most 524288 bytes are accepted"});
  }
  SECTION("a 400 KiB resource name is parsed and reported shortened") {
    const std::string text =
        "sharing:\n  timeSlicing:\n    resources:\n    - replicas: 2\n      name: " + std::string(400 * 1024, 'g') + "\n";
    const auto start = std::chrono::steady_clock::now();
    const std::vector<std::string> got = validate_lines({"", text, {}});
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));
    CHECK(got == std::vector<std::string>{
                     "error: cfg: sharing.timeSlicing.resources[0].name: fully-qualified resource name \"nvidia.com/" +
                     std::string(53, 'g') + "...\" must be 63 characters or less (it has 409611) (line 5, column 13)"});
  }
  SECTION("thousands of unknown keys are listed up to the limit") {
    std::string text;
    for (int i = 0; i < 5000; ++i) text += "key" + std::to_string(i) + ": 1\n";
    const std::vector<std::string> got = validate_lines({"", text, {}});
    REQUIRE(got.size() == kMaxProblemsPerDocument);
    CHECK(got.front() == "error: cfg: key0: unknown field \"key0\", which the consumers ignore (line 1, column 1)");
    CHECK(got.back() == "error: cfg: 4901 more problems not listed");
  }
  SECTION("malformed UTF-8 is refused where it is, a cut stays on a character boundary") {
    const std::string text = "version: \"\xff" + std::string(63, 'v') + "\xc3\xa9\"\n";
    CHECK(validate_lines({"", text, {}}) ==
          std::vector<std::string>{
              "error: cfg: invalid YAML: malformed UTF-8 (the consumers' parser refuses the file) (line 1, column 11)"});
    const std::string accented = "version: \"" + std::string(63, 'v') + "\xc3\xa9x\"\n";
    CHECK(validate_lines({"", accented, {}}) ==
          std::vector<std::string>{"error: cfg: version: unknown version: \"" + std::string(63, 'v') +
                                   "\xc3\xa9...\" (line 1, column 10)"});
  }
  SECTION("control characters in keys stay on one line") {
    const std::vector<std::string> got = validate_lines({"", "\"a\\nb\": 1\n", {}});
    CHECK(got == std::vector<std::string>{
                     "error: cfg: \"a\\x0ab\": unknown field \"a\\x0ab\", which the consumers ignore (line 1, column 1)"});
  }
}

}  // namespace
}  // namespace cpo::deviceplugin::test
