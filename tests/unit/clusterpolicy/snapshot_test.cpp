#include <catch2/catch.hpp>

#include "apimachinery/hash.hpp"
#include "clusterpolicy/snapshot.hpp"

using namespace cpo::clusterpolicy;
using json = nlohmann::json;

TEST_CASE("Snapshot names follow the content, not the key order", "[snapshot]") {
  std::map<std::string, std::string> a = {{"mps-two", "x"}, {"mps-four", "y"}};
  std::map<std::string, std::string> b = {{"mps-four", "y"}, {"mps-two", "x"}};
  const ConfigContent ca{a, "mps-two", "none"};
  CHECK(config_hash(ca) == config_hash({b, "mps-two", "none"}));
  CHECK(config_hash(ca).size() == 64);
  CHECK(config_hash(ca) != config_hash({{{"mps-two", "x"}, {"mps-four", "z"}}, "mps-two", "none"}));
  // Moving text between keys changes the hash.
  CHECK(config_hash({{{"a", "bc"}}, "", "none"}) != config_hash({{{"ab", "c"}}, "", "none"}));
  // So do the default key and the MIG strategy validated with the data.
  CHECK(config_hash(ca) != config_hash({a, "mps-four", "none"}));
  CHECK(config_hash(ca) != config_hash({a, "mps-two", "single"}));
  // sha256 of the canonical JSON.
  CHECK(config_hash({{}, "", ""}) == cpo::apimachinery::sha256_hex(R"({"data":{},"default":"","migStrategy":""})"));
  const std::string hash = config_hash(ca);
  CHECK(snapshot_name("mps-config-all", hash) == "mps-config-all-" + hash.substr(0, 10));
  CHECK(snapshot_name(std::string(260, 'a'), hash).size() == 253);
}

TEST_CASE("A snapshot is an immutable, owned copy labelled with its source", "[snapshot]") {
  json owner = {{"metadata", {{"name", "cluster-policy"}, {"uid", "u-1"}}}};
  const ConfigContent content{{{"mps-any", "version: v1\n"}}, "mps-any", "none"};
  json s = render_snapshot("mps-config-all", content, "gpu-operator", owner);
  CHECK(s["immutable"] == true);
  CHECK(s["metadata"]["namespace"] == "gpu-operator");
  CHECK(s["metadata"]["labels"][kSnapshotSourceLabel] == "mps-config-all");
  CHECK(s["metadata"]["ownerReferences"][0]["uid"] == "u-1");
  CHECK(s["metadata"]["ownerReferences"][0]["controller"] == true);
  CHECK(s["data"] == json({{"mps-any", "version: v1\n"}}));
  CHECK(configmap_data(s) == std::map<std::string, std::string>{{"mps-any", "version: v1\n"}});
  // Read back, it says what it pins.
  auto read = read_snapshot(s);
  REQUIRE(read);
  CHECK(read->name == s["metadata"]["name"]);
  CHECK(read->hash == config_hash(content));
  CHECK(read->default_key == "mps-any");
  CHECK(read->mig_strategy == "none");
  CHECK(read->keys == std::set<std::string>{"mps-any"});
  // A ConfigMap that is not a snapshot is not read as one.
  CHECK_FALSE(read_snapshot(json{{"metadata", {{"name", "mps-config-all"}}}, {"data", {{"a", "b"}}}}));
}

TEST_CASE("Pruning keeps the newest three and anything still mounted", "[snapshot]") {
  auto snap = [](const char* name, const char* created) {
    Snapshot s;
    s.name = name;
    s.hash = std::string(name) + "-hash";
    s.created = created;
    return s;
  };
  std::vector<Snapshot> all = {snap("c-1", "2026-01-01T00:00:01Z"), snap("c-2", "2026-01-01T00:00:02Z"),
                           snap("c-3", "2026-01-01T00:00:03Z"), snap("c-4", "2026-01-01T00:00:04Z"),
                           snap("c-5", "2026-01-01T00:00:05Z")};
  CHECK(snapshots_to_prune(all, {}) == std::vector<std::string>{"c-2", "c-1"});
  CHECK(snapshots_to_prune(all, {"c-1"}) == std::vector<std::string>{"c-2"});
  CHECK(snapshots_to_prune({all[0], all[1]}, {}).empty());
}
