#include <catch2/catch.hpp>

#include "clusterpolicy/config_rollout.hpp"
#include "clusterpolicy/snapshot.hpp"
#include "clusterpolicy/status.hpp"

using namespace cpo::clusterpolicy;

namespace {

const auto kNow = std::chrono::system_clock::time_point(std::chrono::seconds(1795000000));

const char* kMps4 = "version: v1\nsharing:\n  mps:\n    resources:\n    - name: nvidia.com/gpu\n      replicas: 4\n";
const char* kMps8 = "version: v1\nsharing:\n  mps:\n    resources:\n    - name: nvidia.com/gpu\n      replicas: 8\n";
const char* kMps1 = "version: v1\nsharing:\n  mps:\n    resources:\n    - name: nvidia.com/gpu\n      replicas: 1\n";

std::map<std::string, std::string> data(const char* doc) { return {{"mps-any", doc}}; }

ConsumerState consumer(const std::string& name, const std::string& hash, bool rolled_out, long updated = 2,
                       long available = 2) {
  return {name, hash, rolled_out, updated, available, 2};
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
  const std::string hash = content_hash(data(doc));
  in.snapshot_names = {snapshot_name("mps-config-all", hash)};
  in.applied_keys = {"mps-any"};
  in.consumers = {consumer("dp", hash, true), consumer("gfd", hash, true)};
  in.record.applied_hash = hash;
  in.record.desired_hash = hash;
  in.record.progress_since = rfc3339(kNow - std::chrono::hours(1));
  return in;
}

}  // namespace

TEST_CASE("Config rollout: a settled config stays current and asks for nothing", "[config_rollout]") {
  auto in = settled(kMps4);
  auto d = decide_config(in);
  CHECK(d.outcome == ConfigOutcome::Current);
  CHECK_FALSE(d.create_snapshot);
  CHECK_FALSE(d.just_rolled_out);
  REQUIRE(d.source);
  CHECK(d.source->configmap_name == snapshot_name("mps-config-all", content_hash(data(kMps4))));
  CHECK_FALSE(d.check_again_in);
  // Deciding again from the recorded state changes nothing: no status write.
  in.record = d.record;
  CHECK(config_status(in, decide_config(in)) == config_status(in, d));
}

TEST_CASE("Config rollout: an edit makes a new snapshot and rolls, then completes", "[config_rollout]") {
  auto in = settled(kMps4);
  in.source_data = data(kMps8);
  const std::string new_hash = content_hash(data(kMps8));
  auto d = decide_config(in);
  CHECK(d.outcome == ConfigOutcome::Rolling);
  CHECK(d.create_snapshot);
  CHECK(d.source->content_hash == new_hash);
  CHECK(d.record.desired_hash == new_hash);
  CHECK(d.record.applied_hash == in.record.applied_hash);
  REQUIRE(d.check_again_in);
  CHECK(*d.check_again_in == std::chrono::seconds(61));

  in.record = d.record;
  in.snapshot_names.insert(d.source->configmap_name);
  in.consumers = {consumer("dp", new_hash, true), consumer("gfd", new_hash, true)};
  auto done = decide_config(in);
  CHECK(done.outcome == ConfigOutcome::Current);
  CHECK(done.just_rolled_out);
  CHECK(done.record.applied_hash == new_hash);
}

TEST_CASE("Config rollout: an invalid edit keeps the last good snapshot", "[config_rollout]") {
  auto in = settled(kMps4);
  const std::string good = snapshot_name("mps-config-all", content_hash(data(kMps4)));
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
  fresh.snapshot_names.clear();
  CHECK_FALSE(decide_config(fresh).source);
}

TEST_CASE("Config rollout: a missing ConfigMap never rolls to nothing", "[config_rollout]") {
  auto in = settled(kMps4);
  in.source_data = std::nullopt;
  auto d = decide_config(in);
  CHECK(d.outcome == ConfigOutcome::Missing);
  REQUIRE(d.source);
  CHECK(d.message.find("does not exist; the consumers keep snapshot") != std::string::npos);
  in.snapshot_names.clear();
  auto none = decide_config(in);
  CHECK_FALSE(none.source);
  CHECK(none.message.find("run without config-manager") != std::string::npos);
}

TEST_CASE("Config rollout: a stalled rollout is rolled back after the deadline", "[config_rollout]") {
  auto in = settled(kMps4);
  const std::string old_hash = content_hash(data(kMps4));
  const std::string new_hash = content_hash(data(kMps8));
  in.source_data = data(kMps8);
  auto started = decide_config(in);
  in.record = started.record;
  in.snapshot_names.insert(started.source->configmap_name);
  // One pod replaced, never available.
  in.consumers = {consumer("dp", new_hash, false, 1, 1), consumer("gfd", new_hash, false, 1, 1)};

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
  CHECK(back.message.find("rolled back to snapshot") != std::string::npos);

  // The same content is not retried; a new edit is.
  in.record = back.record;
  in.consumers = {consumer("dp", old_hash, true), consumer("gfd", old_hash, true)};
  CHECK(decide_config(in).outcome == ConfigOutcome::PreviouslyFailed);
  in.source_data = data("version: v1\nsharing:\n  mps:\n    resources:\n    - name: nvidia.com/gpu\n      replicas: 6\n");
  CHECK(decide_config(in).outcome == ConfigOutcome::Rolling);
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
