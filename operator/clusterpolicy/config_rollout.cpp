#include "clusterpolicy/config_rollout.hpp"

#include <algorithm>

#include "apimachinery/nested.hpp"
#include "apimachinery/rfc3339.hpp"
#include "clusterpolicy/snapshot.hpp"
#include "clusterpolicy/status.hpp"

namespace cpo::clusterpolicy {

namespace {

constexpr std::size_t kFailedHashesKept = 10;

std::string short_hash(const std::string& hash) { return hash.substr(0, 10); }

}  // namespace

std::string_view to_string(ConfigOutcome outcome) {
  switch (outcome) {
    case ConfigOutcome::Current: return "current";
    case ConfigOutcome::Rolling: return "rolling";
    case ConfigOutcome::Invalid: return "invalid";
    case ConfigOutcome::Missing: return "missing";
    case ConfigOutcome::PreviouslyFailed: return "previouslyFailed";
    case ConfigOutcome::RolledBack: return "rolledBack";
  }
  return "current";
}

RolloutRecord RolloutRecord::from_status(const nlohmann::json& c) {
  RolloutRecord r;
  if (!c.is_object()) return r;
  r.applied_hash = c.value("appliedHash", "");
  r.desired_hash = c.value("desiredHash", "");
  r.progress = c.value("progress", "");
  r.progress_since = c.value("progressSince", "");
  r.failed_hashes = apimachinery::nested_strings(c, {"failedHashes"});
  return r;
}

namespace {

// The snapshot of `hash` as a mount: the current source's if there are several.
std::optional<ConfigSource> snapshot_of(const ConfigInputs& in, const std::string& hash) {
  if (hash.empty()) return std::nullopt;
  const Snapshot* found = nullptr;
  for (const auto& s : in.snapshots) {
    if (s.hash != hash) continue;
    if (!found || s.name == snapshot_name(in.source_name, hash)) found = &s;
  }
  if (!found) return std::nullopt;
  return ConfigSource{found->name, hash, found->default_key, found->mig_strategy};
}

std::set<std::string> keys_of(const ConfigInputs& in, const std::string& hash) {
  for (const auto& s : in.snapshots) {
    if (!hash.empty() && s.hash == hash) return s.keys;
  }
  return {};
}

bool contains(const std::vector<std::string>& list, const std::string& value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

// Follows the rollout of what the consumers are to mount (d.source), whatever
// the user's ConfigMap says now: records progress, notices completion, and
// rolls a rollout that made no progress for the deadline back to the last
// config rolled out everywhere. Returns the progress text ("" when complete).
std::string track_rollout(const ConfigInputs& in, ConfigDecision& d, const std::string& where) {
  if (!d.source || d.source->content_hash.empty()) return "";
  const std::string target = d.source->content_hash;
  const std::string now_text = apimachinery::rfc3339(in.now);
  if (d.record.desired_hash != target) {
    d.record.desired_hash = target;
    d.record.progress.clear();
    d.record.progress_since = now_text;
  }
  bool all_rolled = true, templates_carry = true, waits_for_deletion = false;
  long updated = 0, available = 0;
  for (const auto& c : in.consumers) {
    const bool carries = c.template_hash == target;
    templates_carry = templates_carry && carries;
    all_rolled = all_rolled && carries && c.rolled_out;
    if (carries) {
      updated += c.updated;
      available += c.available;
    }
    if (!(carries && c.rolled_out) && c.on_delete) waits_for_deletion = true;
  }
  if (all_rolled) {
    if (d.record.applied_hash != target) {
      d.rolled_out_message = "config " + short_hash(target) + " (snapshot " + d.source->configmap_name +
                             ") is rolled out to every consumer";
    }
    d.record.applied_hash = target;
    d.record.progress.clear();
    return "";
  }
  const std::string progress = std::to_string(updated) + "/" + std::to_string(available);
  if (!templates_carry) {
    // The templates are not updated yet (this reconcile applies them, or an
    // apply failed and is retried): no pod can be blamed, the clock waits.
    d.record.progress.clear();
    d.record.progress_since = now_text;
    return progress;
  }
  if (progress != d.record.progress) {
    d.record.progress = progress;
    d.record.progress_since = now_text;
  }
  if (waits_for_deletion) return progress;  // OnDelete: pods roll when deleted, not on a clock
  const auto since = apimachinery::parse_rfc3339(d.record.progress_since).value_or(in.now);
  const auto stalled = std::chrono::duration_cast<std::chrono::seconds>(in.now - since);
  auto previous = snapshot_of(in, in.record.applied_hash);
  if (stalled >= in.rollout_deadline && previous && in.record.applied_hash != target) {
    d.record.failed_hashes.push_back(target);
    if (d.record.failed_hashes.size() > kFailedHashesKept) d.record.failed_hashes.erase(d.record.failed_hashes.begin());
    d.record.desired_hash = in.record.applied_hash;
    d.record.progress.clear();
    d.record.progress_since = now_text;
    d.rollback_message = "the rollout of config " + short_hash(target) + " of " + where + " made no progress for " +
                         std::to_string(in.rollout_deadline.count()) +
                         "s while its pods did not become available; rolled back to snapshot " +
                         previous->configmap_name;
    d.source = previous;
    d.create_snapshot = false;
    return "";
  }
  if (stalled < in.rollout_deadline) d.check_again_in = in.rollout_deadline - stalled + std::chrono::seconds(1);
  return progress;
}

}  // namespace

std::optional<ConfigSource> last_good_source(const ConfigInputs& in) {
  // What the pods run is the safest (nothing restarts), unless it is a config
  // that failed, or the consumers disagree (a rollback half applied).
  std::set<std::string> deployed;
  for (const auto& c : in.consumers) {
    if (!c.template_hash.empty()) deployed.insert(c.template_hash);
  }
  if (deployed.size() == 1 && !contains(in.record.failed_hashes, *deployed.begin())) {
    if (auto source = snapshot_of(in, *deployed.begin())) return source;
  }
  return snapshot_of(in, in.record.applied_hash);
}

ConfigDecision decide_config(const ConfigInputs& in) {
  ConfigDecision d;
  d.record = in.record;
  const std::string where = "ConfigMap " + in.ns + "/" + in.source_name;
  auto kept_text = [&]() {
    return d.source ? "the consumers keep snapshot " + d.source->configmap_name
                    : std::string("the consumers run without config-manager until a valid config exists");
  };

  // What the consumers are to mount.
  std::string problem_text;
  if (!in.source_data) {
    d.outcome = ConfigOutcome::Missing;
    d.source = last_good_source(in);
  } else {
    // Nodes selecting keys that never existed are mislabelled: report, do not block.
    const std::set<std::string> applied_keys = keys_of(in, in.record.applied_hash);
    std::vector<deviceplugin::NodeSelection> checked_nodes;
    for (const auto& node : in.nodes) {
      if (!node.selected_key.empty() && !in.source_data->count(node.selected_key) &&
          !applied_keys.count(node.selected_key)) {
        d.nodes_with_unknown_keys.push_back(node.node + "=" + node.selected_key);
      } else {
        checked_nodes.push_back(node);
      }
    }
    std::sort(d.nodes_with_unknown_keys.begin(), d.nodes_with_unknown_keys.end());

    std::optional<std::string> default_key;
    if (!in.default_key.empty()) default_key = in.default_key;
    deviceplugin::ValidationContext context;
    context.mig_strategy_override = in.mig_strategy;
    context.plugin_version = in.plugin_version;
    context.plugin_env = in.plugin_env;
    context.unknown_keys = in.unknown_keys;
    auto result = deviceplugin::validate_configmap(*in.source_data, default_key, checked_nodes, context, in.source_name);
    d.problems = result.problems;
    if (in.plugin_version_warning) {
      d.problems.push_back({"", "", *in.plugin_version_warning, deviceplugin::Severity::Warning});
    }
    d.hash = config_hash({*in.source_data, in.default_key, in.mig_strategy});
    if (!result.ok()) {
      d.outcome = ConfigOutcome::Invalid;
      d.source = last_good_source(in);
      std::size_t errors = 0;
      for (const auto& p : d.problems) {
        if (p.severity != deviceplugin::Severity::Error) continue;
        if (errors++ == 0) problem_text = deviceplugin::format(p);
      }
      problem_text = " is invalid (" + std::to_string(errors) + (errors == 1 ? " problem" : " problems") +
                     ", first: " + problem_text + ")";
    } else if (contains(in.record.failed_hashes, d.hash)) {
      d.outcome = ConfigOutcome::PreviouslyFailed;
      d.source = last_good_source(in);
    } else {
      d.outcome = ConfigOutcome::Rolling;
      d.source = ConfigSource{snapshot_name(in.source_name, d.hash), d.hash, in.default_key, in.mig_strategy};
      d.create_snapshot = std::none_of(in.snapshots.begin(), in.snapshots.end(),
                                       [&](const Snapshot& s) { return s.name == d.source->configmap_name; });
    }
  }

  // Its rollout, followed whatever the ConfigMap says now.
  const std::string progress = track_rollout(in, d, where);
  const bool fresh = d.outcome == ConfigOutcome::Rolling;
  if (fresh && d.rollback_message) d.outcome = ConfigOutcome::RolledBack;
  if (fresh && !d.rollback_message && progress.empty()) d.outcome = ConfigOutcome::Current;

  switch (d.outcome) {
    case ConfigOutcome::Missing:
      d.message = where + " does not exist; " + kept_text();
      break;
    case ConfigOutcome::Invalid:
      d.message = where + problem_text + "; " + kept_text();
      break;
    case ConfigOutcome::PreviouslyFailed:
      d.message = "config " + short_hash(d.hash) + " of " + where +
                  " was rolled back after its pods did not become available; it is not retried until the "
                  "ConfigMap or the settings validated with it change; " + kept_text();
      break;
    case ConfigOutcome::RolledBack:
      d.message = *d.rollback_message;
      break;
    case ConfigOutcome::Current:
      d.message = "config " + short_hash(d.hash) + " of " + where + " is rolled out";
      break;
    case ConfigOutcome::Rolling: {
      d.message = "config " + short_hash(d.hash) + " of " + where + " is rolling out (" + progress +
                  " pods updated/available)";
      const bool on_delete = std::any_of(in.consumers.begin(), in.consumers.end(), [&](const ConsumerState& c) {
        return c.on_delete && !(c.template_hash == d.hash && c.rolled_out);
      });
      if (on_delete) {
        d.message += "; updateStrategy OnDelete: pods take the new config when they are deleted";
      } else if (!d.check_again_in && !d.record.progress.empty()) {
        d.message += "; no progress for the rollout deadline and no earlier snapshot to roll back to";
      }
      break;
    }
  }
  if (d.rollback_message && d.outcome != ConfigOutcome::RolledBack) d.message += "; " + *d.rollback_message;
  return d;
}

namespace {

// "<default key>@<short hash>" of the config rolled out everywhere (the
// `kubectl get clusterpolicies` CONFIG column); the bare hash without a default key.
std::string in_effect_summary(const ConfigInputs& in, const std::string& applied_hash) {
  for (const auto& s : in.snapshots) {
    if (s.hash == applied_hash && s.default_key && !s.default_key->empty()) {
      return *s.default_key + "@" + short_hash(applied_hash);
    }
  }
  return short_hash(applied_hash);
}

// "updated/desired" pods of the first consumer (the device plugin when it is on):
// nodes on the current template out of the nodes it runs on (the UPDATED column).
std::optional<std::string> updated_nodes(const ConfigInputs& in) {
  if (in.consumers.empty()) return std::nullopt;
  const auto& c = in.consumers.front();
  return std::to_string(c.updated) + "/" + std::to_string(c.desired);
}

}  // namespace

nlohmann::json config_status(const ConfigInputs& in, const ConfigDecision& d) {
  nlohmann::json errors = nlohmann::json::array();
  nlohmann::json warnings = nlohmann::json::array();
  for (const auto& p : d.problems) (p.severity == deviceplugin::Severity::Error ? errors : warnings).push_back(deviceplugin::format(p));
  nlohmann::json consumers = nlohmann::json::object();
  for (const auto& c : in.consumers) {
    // In effect: what the pods run — the template's config once its rollout is
    // complete, else the last config rolled out everywhere.
    const std::string in_effect = c.rolled_out ? c.template_hash : d.record.applied_hash;
    consumers[c.name] = {{"desiredHash", d.source ? short_hash(d.source->content_hash) : ""},
                         {"inEffectHash", short_hash(in_effect)},
                         {"updated", c.updated},
                         {"available", c.available},
                         {"desired", c.desired}};
  }
  nlohmann::json status = {{"name", in.source_name},
                           {"state", std::string(to_string(d.outcome))},
                           {"message", d.message},
                           {"consumers", consumers}};
  if (!d.hash.empty()) status["hash"] = short_hash(d.hash);
  if (d.source) status["snapshot"] = d.source->configmap_name;
  if (!errors.empty()) status["errors"] = errors;
  if (!warnings.empty()) status["warnings"] = warnings;
  if (!d.record.applied_hash.empty()) {
    status["appliedHash"] = d.record.applied_hash;
    status["inEffect"] = in_effect_summary(in, d.record.applied_hash);
  }
  if (auto updated = updated_nodes(in)) status["updatedNodes"] = *updated;
  if (!d.record.desired_hash.empty()) status["desiredHash"] = d.record.desired_hash;
  if (!d.record.progress.empty()) status["progress"] = d.record.progress;
  if (!d.record.progress_since.empty()) status["progressSince"] = d.record.progress_since;
  if (!d.record.failed_hashes.empty()) status["failedHashes"] = d.record.failed_hashes;
  if (!d.nodes_with_unknown_keys.empty()) {
    nlohmann::json first = nlohmann::json::array();
    for (std::size_t i = 0; i < d.nodes_with_unknown_keys.size() && i < 5; ++i) first.push_back(d.nodes_with_unknown_keys[i]);
    status["nodesSelectingUnknownKeys"] = {{"count", d.nodes_with_unknown_keys.size()}, {"first", first}};
  }
  return status;
}

}  // namespace cpo::clusterpolicy
