// Hostile device-plugin configs in the cluster (anyone who may edit the ConfigMap
// can write them): a value of about 1 MiB, an alias bomb, nesting thousands deep.
// Each is refused with its reason in the status, nothing rolls, the operator keeps
// running and does not spin on it.
#include <catch2/catch.hpp>

#include <thread>

#include "support/config_environment.hpp"
#include "support/operator_environment.hpp"

using namespace cpo;
using namespace cpo::testing::config;

namespace {

std::string alias_bomb() {
  std::string doc = "version: v1\na: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n";
  char previous = 'a';
  for (char level = 'b'; level <= 'j'; ++level) {
    doc += std::string(1, level) + ": &" + level + " [";
    for (int i = 0; i < 9; ++i) doc += std::string(i ? ",*" : "*") + previous;
    doc += "]\n";
    previous = level;
  }
  return doc;
}

}  // namespace

TEST_CASE("Config: a 1 MiB value, an alias bomb and deep nesting are refused without a crash or a loop",
          "[config][integration][fault]") {
  ConfigEnvironment env;
  const std::string good = env.deploy({{"mps-any", mps_doc(4)}});

  struct Hostile {
    const char* name;
    std::string doc;
    const char* expected;  // in the ConfigValid message
  };
  const Hostile cases[] = {
      {"an unknown key holding about 1 MiB", mps_doc(4) + "junk: " + std::string(1000 * 1000, 'a') + "\n",
       "bytes are accepted"},
      {"a billion-laughs alias bomb", alias_bomb(), "aliases"},
      {"nesting 5000 deep", "version: v1\nflags: " + std::string(5000, '[') + std::string(5000, ']') + "\n",
       "nests deeper than"},
  };
  for (const auto& c : cases) {
    INFO(c.name << "\noperator log:\n" << env.op->log_tail());
    env.set_config({{"mps-any", c.doc}});
    CHECK(testing::eventually([&] {
      auto valid = env.condition("ConfigValid");
      return valid.value("status", "") == "False" && valid.value("message", "").find(c.expected) != std::string::npos;
    }, std::chrono::seconds(30)));
    std::this_thread::sleep_for(std::chrono::seconds(2));
    // No retry loop on a config that cannot change by itself.
    const double reconciles = testing::operators::reconciles(*env.op);
    std::this_thread::sleep_for(std::chrono::seconds(5));
    CHECK(testing::operators::reconciles(*env.op) - reconciles <= 1);
    CHECK(env.consumer_hash() == good);  // nothing rolled
    CHECK(env.op->running());
  }
  // And it still takes a good config.
  const std::map<std::string, std::string> fixed = {{"mps-any", mps_doc(6)}};
  env.set_config(fixed);
  CHECK(testing::eventually([&] { return env.consumer_hash() == hash_of(fixed); }, std::chrono::seconds(30)));
}
