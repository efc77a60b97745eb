#include <catch2/catch.hpp>

#include "apimachinery/rfc3339.hpp"
#include "clusterpolicy/config_rollout.hpp"
#include "clusterpolicy/snapshot.hpp"
#include "clusterpolicy/status.hpp"

using namespace cpo::clusterpolicy;
using cpo::apimachinery::rfc3339;

namespace {

const auto kNow = std::chrono::system_clock::time_point(std::chrono::seconds(1795000000));

const char* kMps4 = "version: v1\nsharing:\n  mps:\n    resources:\n    - name: nvidia.com/gpu\n      replicas: 4\n";
const char* kMps8 = "version: v1\nsharing:\n  mps:\n    resources:\n    - name: nvidia.com/gpu\n      replicas: 8\n";
const char* kMps1 = "version: v1\nsharing:\n  mps:\n    resources:\n    - name: nvidia.com/gpu\n      replicas: 1\n";

std::map<std::string, std::string> data(const char* doc) { return {{"mps-any", doc}}; }

std::string hash_of(const char* doc, const std::string& default_key = "mps-any", const std::string& mig = "none") {
  return config_hash({data(doc), default_key, mig});
}

Snapshot snapshot(const std::string& source, const char* doc, const std::string& default_key = "mps-any",
                  const std::string& mig = "none", const std::string& created = "2026-01-01T00:00:00Z") {
  const std::string hash = hash_of(doc, default_key, mig);
  return {snapshot_name(source, hash), hash, default_key, mig, {"mps-any"}, created};
}

ConsumerState consumer(const std::string& name, const std::string& hash, bool rolled_out, long updated = 2,
                       long available = 2) {
  ConsumerState c;
  c.name = name;
  c.template_hash = hash;
  c.rolled_out = rolled_out;
  c.updated = updated;
  c.available = available;
  c.desired = 2;
  return c;
}

// A cluster where config `doc` is rolled out everywhere.
ConfigInputs settled(const char* doc) {
  ConfigInputs in;
  in.ns = "gpu-operator";
  in.source_name = "mps-config-all";
  in.default_key = "mps-any";
  in.source_data = data(doc);
  in.now = kNow;
  in.rollout_deadline = std::chrono::seconds(60);
  const std::string hash = hash_of(doc);
  in.snapshots = {snapshot("mps-config-all", doc)};
  in.consumers = {consumer("dp", hash, true), consumer("gfd", hash, true)};
  in.record.applied_hash = hash;
  in.record.desired_hash = hash;
  in.record.progress_since = rfc3339(kNow - std::chrono::hours(1));
  return in;
}

// `in` after the edit to `doc` was decided and the templates were applied:
// every consumer carries the new hash, with `updated`/`available` pods.
ConfigInputs applied(ConfigInputs in, const char* doc, long updated, long available, bool rolled_out = false) {
  auto started = decide_config(in);
  in.record = started.record;
  in.snapshots.push_back(snapshot(in.source_name, doc, in.default_key, in.mig_strategy, "2026-01-02T00:00:00Z"));
  for (auto& c : in.consumers) c = consumer(c.name, hash_of(doc, in.default_key, in.mig_strategy), rolled_out, updated, available);
  return in;
}

}  // namespace

TEST_CASE("Config rollout: a settled config stays current and asks for nothing", "[config_rollout]") {
  auto in = settled(kMps4);
  auto d = decide_config(in);
  CHECK(d.outcome == ConfigOutcome::Current);
  CHECK_FALSE(d.create_snapshot);
  CHECK_FALSE(d.rolled_out_message);
  CHECK_FALSE(d.rollback_message);
  REQUIRE(d.source);
  CHECK(d.source->configmap_name == snapshot_name("mps-config-all", hash_of(kMps4)));
  CHECK(d.source->default_key == "mps-any");
  CHECK(d.source->mig_strategy == "none");
  CHECK_FALSE(d.check_again_in);
  // Deciding again from the recorded state changes nothing: no status write.
  in.record = d.record;
  CHECK(config_status(in, decide_config(in)) == config_status(in, d));
}

TEST_CASE("Config rollout: an edit makes a new snapshot and rolls, then completes", "[config_rollout]") {
  auto in = settled(kMps4);
  in.source_data = data(kMps8);
  const std::string new_hash = hash_of(kMps8);
  auto d = decide_config(in);
  CHECK(d.outcome == ConfigOutcome::Rolling);
  CHECK(d.create_snapshot);
  CHECK(d.source->content_hash == new_hash);
  CHECK(d.record.desired_hash == new_hash);
  CHECK(d.record.applied_hash == in.record.applied_hash);

  auto rolling = applied(in, kMps8, 1, 1);
  auto half = decide_config(rolling);
  CHECK(half.outcome == ConfigOutcome::Rolling);
  REQUIRE(half.check_again_in);
  CHECK(*half.check_again_in == std::chrono::seconds(61));

  auto done_in = applied(in, kMps8, 2, 2, true);
  auto done = decide_config(done_in);
  CHECK(done.outcome == ConfigOutcome::Current);
  REQUIRE(done.rolled_out_message);
  CHECK(done.rolled_out_message->find(new_hash.substr(0, 10)) != std::string::npos);
  CHECK(done.record.applied_hash == new_hash);
}

TEST_CASE("Config rollout: config.default and the MIG strategy are part of the config", "[config_rollout]") {
  auto in = settled(kMps4);
  in.source_data = {{"mps-any", kMps4}, {"mps-other", kMps8}};
  in.default_key = "mps-other";
  auto d = decide_config(in);
  CHECK(d.outcome == ConfigOutcome::Rolling);
  CHECK(d.create_snapshot);
  CHECK(d.source->default_key == "mps-other");

  // A default naming no key is rejected: the consumers keep the old default.
  auto typo = settled(kMps4);
  typo.default_key = "mps-nope";
  auto rejected = decide_config(typo);
  CHECK(rejected.outcome == ConfigOutcome::Invalid);
  REQUIRE(rejected.source);
  CHECK(rejected.source->default_key == "mps-any");
  CHECK(rejected.source->content_hash == hash_of(kMps4));

  // MPS with the mixed MIG strategy is rejected: the consumers keep "none".
  auto mixed = settled(kMps4);
  mixed.mig_strategy = "mixed";
  auto refused = decide_config(mixed);
  CHECK(refused.outcome == ConfigOutcome::Invalid);
  REQUIRE(refused.source);
  CHECK(refused.source->mig_strategy == "none");
}

TEST_CASE("Config rollout: an invalid edit keeps the last good snapshot", "[config_rollout]") {
  auto in = settled(kMps4);
  const std::string good = snapshot_name("mps-config-all", hash_of(kMps4));
  in.source_data = data(kMps1);
  auto d = decide_config(in);
  CHECK(d.outcome == ConfigOutcome::Invalid);
  REQUIRE(d.source);
  CHECK(d.source->configmap_name == good);
  CHECK_FALSE(d.create_snapshot);
  CHECK(d.message.find("number of replicas must be >= 2") != std::string::npos);
  CHECK(d.message.find("the consumers keep snapshot " + good) != std::string::npos);
  auto status = config_status(in, d);
  CHECK(status["state"] == "invalid");
  CHECK(status["errors"].size() >= 1);

  // Never deployed before: no config wiring at all rather than a bad config.
  ConfigInputs fresh = in;
  fresh.consumers = {consumer("dp", "", true)};
  fresh.record = {};
  fresh.snapshots.clear();
  CHECK_FALSE(decide_config(fresh).source);
}

TEST_CASE("Config rollout: a missing ConfigMap never rolls to nothing", "[config_rollout]") {
  auto in = settled(kMps4);
  in.source_data = std::nullopt;
  auto d = decide_config(in);
  CHECK(d.outcome == ConfigOutcome::Missing);
  REQUIRE(d.source);
  CHECK(d.message.find("does not exist; the consumers keep snapshot") != std::string::npos);
  in.snapshots.clear();
  auto none = decide_config(in);
  CHECK_FALSE(none.source);
  CHECK(none.message.find("run without config-manager") != std::string::npos);
}

TEST_CASE("Config rollout: config.name renamed keeps the previous source's snapshot", "[config_rollout]") {
  auto in = settled(kMps4);
  const std::string old_snapshot = in.snapshots[0].name;
  in.source_name = "renamed";
  in.source_data = std::nullopt;  // not created yet
  auto d = decide_config(in);
  CHECK(d.outcome == ConfigOutcome::Missing);
  REQUIRE(d.source);
  CHECK(d.source->configmap_name == old_snapshot);

  // The new ConfigMap rolls; the old source's snapshot is the rollback target.
  in.source_data = data(kMps8);
  auto rolling = applied(in, kMps8, 1, 1);
  rolling.record = decide_config(rolling).record;  // progress seen
  rolling.now += std::chrono::seconds(120);
  auto back = decide_config(rolling);
  CHECK(back.outcome == ConfigOutcome::RolledBack);
  REQUIRE(back.source);
  CHECK(back.source->configmap_name == old_snapshot);
}

TEST_CASE("Config rollout: a stalled rollout is rolled back after the deadline", "[config_rollout]") {
  auto in = settled(kMps4);
  const std::string old_hash = hash_of(kMps4);
  const std::string new_hash = hash_of(kMps8);
  in.source_data = data(kMps8);
  in = applied(in, kMps8, 1, 1);  // one pod replaced, never available

  in.now = kNow + std::chrono::seconds(10);
  auto progressing = decide_config(in);  // progress changed: the clock restarts
  CHECK(progressing.outcome == ConfigOutcome::Rolling);
  CHECK(progressing.record.progress == "2/2");
  CHECK(progressing.record.progress_since == rfc3339(in.now));

  in.record = progressing.record;
  in.now += std::chrono::seconds(30);
  CHECK(decide_config(in).outcome == ConfigOutcome::Rolling);  // within the deadline

  in.now += std::chrono::seconds(31);
  auto back = decide_config(in);
  CHECK(back.outcome == ConfigOutcome::RolledBack);
  REQUIRE(back.source);
  CHECK(back.source->content_hash == old_hash);
  CHECK(back.record.failed_hashes == std::vector<std::string>{new_hash});
  REQUIRE(back.rollback_message);
  CHECK(back.message.find("rolled back to snapshot") != std::string::npos);

  // The same content is not retried; a new edit is.
  in.record = back.record;
  in.consumers = {consumer("dp", old_hash, true), consumer("gfd", old_hash, true)};
  CHECK(decide_config(in).outcome == ConfigOutcome::PreviouslyFailed);
  in.source_data = data("version: v1\nsharing:\n  mps:\n    resources:\n    - name: nvidia.com/gpu\n      replicas: 6\n");
  CHECK(decide_config(in).outcome == ConfigOutcome::Rolling);
}

TEST_CASE("Config rollout: the deadline waits until the templates carry the config", "[config_rollout]") {
  // The snapshot could not be created (quota, permissions): the templates keep
  // the old hash, which is not a failure of the new config's pods.
  auto in = settled(kMps4);
  in.source_data = data(kMps8);
  auto first = decide_config(in);
  in.record = first.record;
  in.now += std::chrono::minutes(30);
  auto later = decide_config(in);
  CHECK(later.outcome == ConfigOutcome::Rolling);
  CHECK_FALSE(later.rollback_message);
  CHECK(later.record.failed_hashes.empty());
}

TEST_CASE("Config rollout: OnDelete consumers are never rolled back on a clock", "[config_rollout]") {
  auto in = settled(kMps4);
  in.source_data = data(kMps8);
  in = applied(in, kMps8, 0, 2);
  for (auto& c : in.consumers) c.on_delete = true;
  in.record = decide_config(in).record;
  in.now += std::chrono::minutes(30);
  auto d = decide_config(in);
  CHECK(d.outcome == ConfigOutcome::Rolling);
  CHECK_FALSE(d.rollback_message);
  CHECK(d.message.find("OnDelete") != std::string::npos);
}

TEST_CASE("Config rollout: rollouts are followed while the ConfigMap is invalid", "[config_rollout]") {
  auto base = settled(kMps4);
  base.source_data = data(kMps8);
  auto stalled = applied(base, kMps8, 1, 1);
  stalled.record = decide_config(stalled).record;
  stalled.source_data = data(kMps1);  // then a typo

  // The rollout of the deployed config stalls: still rolled back.
  stalled.now += std::chrono::minutes(5);
  auto back = decide_config(stalled);
  CHECK(back.outcome == ConfigOutcome::Invalid);
  REQUIRE(back.rollback_message);
  REQUIRE(back.source);
  CHECK(back.source->content_hash == hash_of(kMps4));
  CHECK(back.record.failed_hashes == std::vector<std::string>{hash_of(kMps8)});

  // Or it completes: the record says so, and so does an Event.
  auto completes = applied(base, kMps8, 2, 2, true);
  completes.source_data = data(kMps1);
  auto done = decide_config(completes);
  CHECK(done.outcome == ConfigOutcome::Invalid);
  CHECK(done.record.applied_hash == hash_of(kMps8));
  CHECK(done.rolled_out_message);
}

TEST_CASE("Config rollout: nodes selecting keys that never existed are reported, not blocking", "[config_rollout]") {
  auto in = settled(kMps4);
  in.nodes = {{"node-b", "mps-eight", std::nullopt, std::nullopt}, {"node-a", "typo", std::nullopt, std::nullopt}};
  auto d = decide_config(in);
  CHECK(d.outcome == ConfigOutcome::Current);
  CHECK(d.nodes_with_unknown_keys == std::vector<std::string>{"node-a=typo", "node-b=mps-eight"});
  CHECK(config_status(in, d)["nodesSelectingUnknownKeys"]["count"] == 2);

  // Removing a key a node still uses is an invalid edit.
  auto removal = settled(kMps4);
  removal.source_data = std::map<std::string, std::string>{{"mps-other", kMps4}};
  removal.default_key = "mps-other";
  removal.nodes = {{"node-a", "mps-any", std::nullopt, std::nullopt}};
  auto rejected = decide_config(removal);
  CHECK(rejected.outcome == ConfigOutcome::Invalid);
  CHECK(rejected.message.find("node-a") != std::string::npos);
}

TEST_CASE("Config rollout: status names the config in effect and the nodes updated", "[config_rollout]") {
  auto in = settled(kMps4);
  auto status = config_status(in, decide_config(in));
  CHECK(status["inEffect"] == "mps-any@" + hash_of(kMps4).substr(0, 10));
  CHECK(status["updatedNodes"] == "2/2");

  // Halfway through an edit: the old config is still the one in effect everywhere.
  in.source_data = data(kMps8);
  auto rolling = applied(in, kMps8, 1, 1);
  auto half = config_status(rolling, decide_config(rolling));
  CHECK(half["inEffect"] == "mps-any@" + hash_of(kMps4).substr(0, 10));
  CHECK(half["updatedNodes"] == "1/2");
}

TEST_CASE("Config rollout: the deployed plugin release, its env and the unknown-key mode decide", "[config_rollout]") {
  // sharedDevicesAllocationPolicy exists from v0.20: refused on a v0.19 DaemonSet.
  const char* packed = "version: v1\nflags:\n  plugin:\n    sharedDevicesAllocationPolicy: packed\n";
  auto in = settled(kMps4);
  in.source_data = data(packed);
  CHECK(decide_config(in).outcome == ConfigOutcome::Rolling);
  in.plugin_version = {0, 19, 1};
  auto refused = decide_config(in);
  CHECK(refused.outcome == ConfigOutcome::Invalid);
  CHECK(refused.message.find("v0.20") != std::string::npos);
  // ... warned about when the ClusterPolicy asks for warnings.
  in.unknown_keys = cpo::deviceplugin::UnknownKeys::Warn;
  CHECK(decide_config(in).outcome == ConfigOutcome::Rolling);

  // A flag the DaemonSet's environment beats is in effect with the variable's value:
  // the user's spec.devicePlugin.env counts too.
  // GDS_ENABLED is not among the operator's own variables: only the spec sets it.
  const char* flags = "version: v1\nflags:\n  gdsEnabled: true\n";
  auto env_in = settled(kMps4);
  env_in.source_data = data(flags);
  const auto unset = config_status(env_in, decide_config(env_in));
  CHECK(unset.value("warnings", nlohmann::json::array()).dump().find("GDS_ENABLED") == std::string::npos);
  env_in.plugin_env["GDS_ENABLED"] = "false";
  auto warned = config_status(env_in, decide_config(env_in));
  REQUIRE(warned.contains("warnings"));
  CHECK(warned["warnings"].dump().find("GDS_ENABLED") != std::string::npos);

  // An image tag the rules do not know: the newest rules, and a warning saying so.
  auto guessed = settled(kMps4);
  guessed.plugin_version_warning = "device-plugin image example/dp:latest: no release in the tag";
  auto status = config_status(guessed, decide_config(guessed));
  REQUIRE(status.contains("warnings"));
  CHECK(status["warnings"].dump().find("example/dp:latest") != std::string::npos);
}
