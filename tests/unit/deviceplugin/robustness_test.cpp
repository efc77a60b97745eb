// Hostile or huge documents: refused before the YAML parser recurses, expands aliases
// or allocates much, with a clear message.
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
       {"error: cfg: k: unknown field \"k\" (line 1, column 1)"}},
  });
}

TEST_CASE("anchors and aliases are refused", "[devicepluginconfig][robustness]") {
  std::string laughs = "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n";
  for (char c = 'b'; c <= 'z'; ++c) {
    const char p = static_cast<char>(c - 1);
    laughs += std::string(1, c) + ": &" + c + " [*" + p + ",*" + p + ",*" + p + ",*" + p + ",*" + p +
              ",*" + p + ",*" + p + ",*" + p + ",*" + p + "]\n";
  }
  run({
      {"billion laughs", laughs,
       {"error: cfg: YAML anchors (&a) are not accepted; write the values out (line 1, column 4)"}},
      {"an alias alone", "version: *v\n",
       {"error: cfg: YAML aliases (*v) are not accepted; write the values out (line 1, column 10)"}},
      {"an anchor on a key", "&k version: v1\n",
       {"error: cfg: YAML anchors (&k) are not accepted; write the values out (line 1, column 1)"}},
      {"an alias in a flow list", "flags:\n  plugin:\n    deviceListStrategy: [envvar, *x]\n",
       {"error: cfg: YAML aliases (*x) are not accepted; write the values out (line 3, column 34)"}},
      {"& and * inside quotes, comments, plain and block scalars are text", yaml(R"(
# &not-an-anchor *not-an-alias [[[[
flags:
  nvidiaDriverRoot: "/run/*/&driver [["
  mpsRoot: /run/nvidia/mps&co*  # [[[[ {{{{
  nvidiaDevRoot: 'it''s *here'
  plugin:
    cdiAnnotationPrefix: |
      *not an alias
      &not an anchor [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[
    nvidiaCTKPath: /usr/bin/nvidia-ctk
)"),
       {}},
  });
}

// Scalars over several lines are refused: a line scanner cannot tell them apart
// from structure the way the parser would, and a config never needs them.
TEST_CASE("values spanning lines are refused", "[devicepluginconfig][robustness]") {
  run({
      {"a quoted string over two lines", "flags:\n  mpsRoot: \"/run/\n    nvidia\"\n",
       {"error: cfg: a quoted string must end on the line it starts on (line 2, column 12)"}},
      {"a plain value over two lines", "flags:\n  mpsRoot: /run\n    /nvidia\n",
       {"error: cfg: a value continues on a more indented line; write it on one line (line 3, column 5)"}},
      {"a plain value over two lines, then brackets", "flags:\n  mpsRoot: word\n    'x\nversion: " + repeat("[", 100),
       {"error: cfg: a value continues on a more indented line; write it on one line (line 3, column 5)"}},
      {"a flow list item over two lines", "flags:\n  plugin:\n    deviceListStrategy: [envvar\n      cdi-cri]\n",
       {"error: cfg: a value continues on the next line; write it on one line (line 4, column 7)"}},
      {"a block entry inside a flow list", "flags:\n  plugin:\n    deviceListStrategy: [- envvar]\n",
       {"error: cfg: invalid YAML: a \"- \" entry inside a flow collection (line 3, column 26)"}},
      {"a flow list over several lines is fine", "flags:\n  plugin:\n    deviceListStrategy: [envvar,\n      cdi-cri  # CRI\n    ]\n",
       {}},
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
    CHECK(got.front() == "error: cfg: key0: unknown field \"key0\" (line 1, column 1)");
    CHECK(got.back() == "error: cfg: 4901 more problems not listed");
  }
  SECTION("malformed UTF-8 is escaped, a cut stays on a character boundary") {
    const std::string text = "version: \"\xff" + std::string(63, 'v') + "\xc3\xa9\"\n";
    CHECK(validate_lines({"", text, {}}) ==
          std::vector<std::string>{"error: cfg: version: unknown version: \"\\xff" + std::string(63, 'v') +
                                   "...\" (line 1, column 10)"});
    const std::string accented = "version: \"" + std::string(63, 'v') + "\xc3\xa9x\"\n";
    CHECK(validate_lines({"", accented, {}}) ==
          std::vector<std::string>{"error: cfg: version: unknown version: \"" + std::string(63, 'v') +
                                   "\xc3\xa9...\" (line 1, column 10)"});
  }
  SECTION("control characters in keys stay on one line") {
    const std::vector<std::string> got = validate_lines({"", "\"a\\nb\": 1\n", {}});
    CHECK(got == std::vector<std::string>{
                     "error: cfg: \"a\\x0ab\": unknown field \"a\\x0ab\" (line 1, column 1)"});
  }
}

}  // namespace
}  // namespace cpo::deviceplugin::test
