#include <catch2/catch.hpp>

#include "clusterpolicy/snapshot.hpp"

using namespace cpo::clusterpolicy;
using json = nlohmann::json;

TEST_CASE("Snapshot names follow the content, not the key order", "[snapshot]") {
  std::map<std::string, std::string> a = {{"mps-two", "x"}, {"mps-four", "y"}};
  std::map<std::string, std::string> b = {{"mps-four", "y"}, {"mps-two", "x"}};
  CHECK(content_hash(a) == content_hash(b));
  CHECK(content_hash(a).size() == 64);
  CHECK(content_hash(a) != content_hash({{"mps-two", "x"}, {"mps-four", "z"}}));
  // Moving text between keys changes the hash.
  CHECK(content_hash({{"a", "bc"}}) != content_hash({{"ab", "c"}}));
  // sha256 of the canonical JSON `{}`.
  CHECK(content_hash({}) == "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a");
  const std::string hash = content_hash(a);
  CHECK(snapshot_name("mps-config-all", hash) == "mps-config-all-" + hash.substr(0, 10));
  CHECK(snapshot_name(std::string(260, 'a'), hash).size() == 253);
}

TEST_CASE("A snapshot is an immutable, owned copy labelled with its source", "[snapshot]") {
  json owner = {{"metadata", {{"name", "cluster-policy"}, {"uid", "u-1"}}}};
  json s = render_snapshot("mps-config-all", {{"mps-any", "version: v1\n"}}, "gpu-operator", owner);
  CHECK(s["immutable"] == true);
  CHECK(s["metadata"]["namespace"] == "gpu-operator");
  CHECK(s["metadata"]["labels"][kSnapshotSourceLabel] == "mps-config-all");
  CHECK(s["metadata"]["ownerReferences"][0]["uid"] == "u-1");
  CHECK(s["metadata"]["ownerReferences"][0]["controller"] == true);
  CHECK(s["data"] == json({{"mps-any", "version: v1\n"}}));
  CHECK(configmap_data(s) == std::map<std::string, std::string>{{"mps-any", "version: v1\n"}});
}

TEST_CASE("Pruning keeps the newest three and anything still mounted", "[snapshot]") {
  auto snap = [](const char* name, const char* created) {
    return json{{"metadata", {{"name", name}, {"creationTimestamp", created}}}};
  };
  std::vector<json> all = {snap("c-1", "2026-01-01T00:00:01Z"), snap("c-2", "2026-01-01T00:00:02Z"),
                           snap("c-3", "2026-01-01T00:00:03Z"), snap("c-4", "2026-01-01T00:00:04Z"),
                           snap("c-5", "2026-01-01T00:00:05Z")};
  CHECK(snapshots_to_prune(all, {}) == std::vector<std::string>{"c-2", "c-1"});
  CHECK(snapshots_to_prune(all, {"c-1"}) == std::vector<std::string>{"c-2"});
  CHECK(snapshots_to_prune({all[0], all[1]}, {}).empty());
}
