// YAML -> JSON on hostile input: every text found by fuzzing or written by hand to
// make a parser hang, recurse without end or expand without bound gets a clear
// error naming the problem, and gets it fast. (A regression here shows up as a test
// that times out or crashes, or as one of the elapsed-time checks failing.)
#include "apimachinery/yaml_json.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <vector>

namespace cpo::apimachinery {
namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr auto kFast = std::chrono::milliseconds(500);

struct Hostile {
  std::string name;
  std::string yaml;
  std::string message;  // a part of the error
};

// The error yaml_to_json gives for `yaml`, and how long it took to give it.
std::string error_of(const std::string& yaml, Clock::duration* elapsed) {
  const auto start = Clock::now();
  std::string message = "<no error>";
  try {
    (void)yaml_to_json(yaml);
  } catch (const YamlError& e) {
    message = e.what();
  }
  *elapsed = Clock::now() - start;
  return message;
}

std::string billion_laughs() {
  std::string text = "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n";
  for (int i = 1; i < 10; ++i) {
    const std::string prev = "*a" + std::to_string(i - 1);
    text += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [" + prev;
    for (int j = 1; j < 10; ++j) text += ", " + prev;
    text += "]\n";
  }
  return text;
}

TEST_CASE("hostile YAML texts are refused quickly with an error naming the problem", "[yaml_json]") {
  const std::vector<Hostile> cases = {
      // Found by fuzzing: yaml-cpp 0.7's LoadAll collected empty documents for ever.
      {"a lone comma", ",", "\",\""},
      {"a comma after a flow sequence", "[a],\n", "\",\""},
      {"a comma after a quoted scalar", "'v1',\n", "\",\""},
      {"an alias inside its own anchored sequence", "&a [*a]\n",
       "an alias refers to the node that contains it"},
      {"an alias inside its own anchored mapping", "a: &a\n  b: *a\n",
       "an alias refers to the node that contains it"},
      {"an alias to no anchor", "a: *nowhere\n", "unknown alias *nowhere"},
      {"billion laughs", billion_laughs(), "YAML aliases expand beyond 100000 nodes"},
      // Few nodes, much text: 3 MiB aliased 90,000 times would ask for 270 GB.
      {"a large scalar aliased many times", [] {
         std::string text = "x: &x \"" + std::string(3 << 20, 'x') + "\"\ny: [*x";
         for (int i = 1; i < 90000; ++i) text += ",*x";
         return text + "]\n";
       }(), "YAML aliases expand beyond 16777216 bytes of text"},
      {"deep flow nesting", std::string(100000, '[') + std::string(100000, ']'),
       "nesting deeper than 128 levels"},
      {"many documents", [] {
         std::string text;
         for (int i = 0; i < 2000; ++i) text += "---\na: 1\n";
         return text;
       }(), "more than 1000 documents"},
      {"a text beyond the size limit", "a: \"" + std::string(5 << 20, 'x') + "\"\n",
       "is 5242886 bytes; at most 4194304 bytes"},
  };
  for (const Hostile& c : cases) {
    DYNAMIC_SECTION(c.name) {
      Clock::duration elapsed{};
      const std::string message = error_of(c.yaml, &elapsed);
      INFO(message);
      CHECK(message.find(c.message) != std::string::npos);
      CHECK(elapsed < kFast);
    }
  }
}

TEST_CASE("a syntax error quotes the text where it is, after non-ASCII text too", "[yaml_json]") {
  Clock::duration elapsed{};
  CHECK(error_of("name: \"\u00e9\u00e9\u00e9\u00e9\"\nlist: [a, b\nnext: 1\n", &elapsed) ==
        "invalid YAML: did not find expected ',' or ']' while parsing a flow sequence, at \": 1\" "
        "(line 3, column 5)");
  CHECK(error_of("k: \"\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\" x: y\n", &elapsed) ==
        "invalid YAML: did not find expected key while parsing a block mapping, at \"x: y\" (line 1, column 13)");
}

TEST_CASE("deep block nesting is refused too", "[yaml_json]") {
  std::string text;
  for (int depth = 0; depth < 200; ++depth) text += std::string(static_cast<std::size_t>(depth) * 2, ' ') + "k:\n";
  Clock::duration elapsed{};
  CHECK(error_of(text, &elapsed).find("nesting deeper than 128 levels") != std::string::npos);
  CHECK(elapsed < kFast);
}

// Keys in the order written (ordered_json) were checked for duplicates and inserted by
// a linear search each: a 3 MB mapping of 300,000 keys took longer than a minute.
TEST_CASE("a mapping of 200000 keys reads in linear time, in either key order", "[yaml_json]") {
  std::string text;
  for (int i = 0; i < 200000; ++i) text += "k" + std::to_string(i) + ": " + std::to_string(i) + "\n";
  const auto start = Clock::now();
  const nlohmann::ordered_json ordered = yaml_to_ordered_json(text);
  CHECK(Clock::now() - start < std::chrono::seconds(8));  // a linear search per key: over 25 s
  REQUIRE(ordered.size() == 200000);
  CHECK(ordered.begin().key() == "k0");
  CHECK(ordered.back() == 199999);
  Clock::duration elapsed{};
  CHECK(error_of(text + "k7: again\n", &elapsed) == "duplicate key \"k7\" (line 200001, column 1)");
}

TEST_CASE("texts within every limit still read", "[yaml_json]") {
  // 127 levels of nesting, 1000 documents, aliases adding 99,000 nodes.
  std::string deep = std::string(127, '[') + std::string(127, ']');
  CHECK(yaml_to_json(deep).is_array());
  std::string documents;
  for (int i = 0; i < 1000; ++i) documents += "---\na: 1\n";
  CHECK(yaml_documents_to_json(documents).size() == 1000);
  std::string aliases = "x: &x [" + std::string("1") ;
  for (int i = 1; i < 990; ++i) aliases += ", 1";
  aliases += "]\ny: [";
  for (int i = 0; i < 99; ++i) aliases += (i ? ", *x" : "*x");
  aliases += "]\n";
  const json value = yaml_to_json(aliases);
  CHECK(value["y"].size() == 99);
  CHECK(value["y"][98].size() == 990);
}

}  // namespace
}  // namespace cpo::apimachinery
