#include "clusterpolicy/plan.hpp"

#include <algorithm>

#include "apimachinery/hash.hpp"
#include "clusterpolicy/apply_diff.hpp"
#include "clusterpolicy/conflict_plan.hpp"
#include "clusterpolicy/effect_plan.hpp"
#include "clusterpolicy/node_labels.hpp"
#include "clusterpolicy/plan_config.hpp"
#include "clusterpolicy/spec.hpp"
#include "clusterpolicy/vocabulary.hpp"

namespace cpo::clusterpolicy {

namespace {

std::string creation_key(const nlohmann::json& object) {
  // RFC 3339 timestamps in UTC sort as text; the name breaks ties.
  return object["metadata"].value("creationTimestamp", "") + "\x01" + object["metadata"].value("name", "");
}

// The part of a desired object compared with the cache (the cache's list items
// carry no apiVersion/kind).
nlohmann::json comparable(const nlohmann::json& desired) {
  nlohmann::json copy = desired;
  copy.erase("apiVersion");
  copy.erase("kind");
  return copy;
}

// Stamps the digest of what is applied onto the object: a field the render stops
// declaring changes the digest, so the apply that removes it is not skipped.
void stamp_digest(nlohmann::json& object) {
  auto& annotations = object["metadata"]["annotations"];
  if (!annotations.is_object()) annotations = nlohmann::json::object();
  annotations.erase(kAppliedDigestAnnotation);
  const std::string digest = apimachinery::sha256_hex(object.dump()).substr(0, 16);
  object["metadata"]["annotations"][kAppliedDigestAnnotation] = digest;
}

const nlohmann::json* find_owned(const ReconcileInputs& in, const std::string& kind, const std::string& key) {
  for (const auto& owned : in.owned) {
    if (owned.kind == kind && key_of(*owned.object) == key) return owned.object.get();
  }
  return nullptr;
}

// Only the oldest ClusterPolicy is honoured; the others are told so, in writing.
void plan_ignored(const ReconcileInputs& in, Plan& plan) {
  const std::string active_name = in.policies.front().object["metadata"].value("name", "");
  for (std::size_t i = 1; i < in.policies.size(); ++i) {
    const auto& other = in.policies[i];
    IgnoredPolicy ignored{other.object, other.status,
                          ignored_status(active_name, in.ns, other.object["metadata"].value("generation", 0L),
                                         other.status, in.now),
                          std::nullopt};
    if (other.status.value("state", "") != "ignored") {
      ignored.event = PlannedEvent{other.object, EventKind::Warning, event_reason::kIgnored,
                                   "ClusterPolicy " + active_name + " is active (the oldest); this one is ignored"};
    }
    plan.ignored.push_back(std::move(ignored));
  }
}

// Whether any node has a GPU (the node label controller labels them).
bool any_gpu_node(const ReconcileInputs& in) {
  return std::any_of(in.nodes.begin(), in.nodes.end(), [](const auto& node) { return has_gpu(labels_of(*node)); });
}

// Applies for what differs from the caches; deletes for what the active
// ClusterPolicy owns but no longer renders (an operand disabled).
// An update waits while another manager is fought over it (conflict_plan.hpp).
void plan_objects(const ReconcileInputs& in, std::vector<nlohmann::json> objects, ConflictGuard& guard, Plan& plan) {
  std::set<std::pair<std::string, std::string>> desired;  // (kind, key)
  for (auto& object : objects) {
    stamp_digest(object);
    const std::string kind = object["kind"];
    const std::string key = key_of(object);
    desired.insert({kind, key});
    const nlohmann::json* live = find_owned(in, kind, key);
    if (live && contains(*live, comparable(object))) continue;
    const std::string what = kind + " " + key;
    std::string difference;
    if (live && !guard.allow_update(kind, key, *live, comparable(object), difference)) continue;
    std::string message = live ? "Updated " + what + " (" + difference + ")" : "Created " + what;
    plan.applies.push_back({std::move(object), kind, key, live != nullptr, std::move(difference), std::move(message)});
  }
  const std::string uid = in.policies.front().object["metadata"].value("uid", "");
  for (const auto& owned : in.owned) {
    const auto& meta = (*owned.object)["metadata"];
    if (owner_uid(*owned.object) != uid || desired.count({owned.kind, key_of(*owned.object)})) continue;
    plan.deletes.push_back({owned.kind, meta.value("namespace", ""), meta.value("name", ""), meta.value("uid", "")});
  }
}

void add_operands(const ReconcileInputs& in, const Rendered& rendered, StatusInputs& status) {
  for (const auto& object : rendered.objects) {
    if (object["kind"] != "DaemonSet") continue;
    status.operands.push_back(
        operand_readiness(object["metadata"]["name"], find_owned(in, "DaemonSet", key_of(object))));
  }
}

// The config decision, the snapshot to create first, and the config to render with.
std::optional<ConfigDecision> plan_snapshot(const ReconcileInputs& in, const ConfigInputs& config, Plan& plan) {
  ConfigDecision decision = decide_config(config);
  plan.record = decision.record;
  // The snapshot goes first: the DaemonSets about to be applied mount it. If it
  // cannot be created, the consumers stay on the last good one.
  if (decision.create_snapshot && decision.source && config.source_data) {
    if (in.snapshot_failure) {
      decision.source = last_good_source(config);
      decision.create_snapshot = false;
    } else {
      plan.snapshot = SnapshotCreate{
          render_snapshot(config.source_name, {*config.source_data, config.default_key, config.mig_strategy}, in.ns,
                          in.policies.front().object),
          decision.source->configmap_name};
    }
  }
  return decision;
}

// Everything after the node labels; throws what the spec and render throw.
void plan_operands(const ReconcileInputs& in, Plan& plan) {
  const auto& active = in.policies.front();
  const auto spec = parse_spec(active.object.value("spec", nlohmann::json::object()));
  RenderInputs inputs;
  inputs.cluster_policy = active.object;
  inputs.ns = in.ns;
  inputs.images = in.images;
  inputs.runtime_class_exists = in.runtime_classes.count(spec.operator_.runtime_class) > 0;
  std::optional<ConfigInputs> config;
  std::optional<ConfigDecision> decision;
  if (!spec.device_plugin.config_name.empty()) {
    config = config_inputs(in, active.object, spec);
    decision = plan_snapshot(in, *config, plan);
    inputs.config = decision->source;
  }
  Rendered rendered = render(inputs);
  auto& status = plan.status_inputs;
  if (config && !config->rollout_deadline_problem.empty()) {
    const auto& noted = status.previous.value("notes", nlohmann::json::array());
    if (std::find(noted.begin(), noted.end(), config->rollout_deadline_problem) == noted.end()) {
      plan.events.push_back({active.object, EventKind::Warning, event_reason::kInvalidAnnotation,
                             config->rollout_deadline_problem});
    }
    rendered.notes.push_back(config->rollout_deadline_problem);
  }
  if (!rendered.notes.empty()) status.extra["notes"] = rendered.notes;
  add_operands(in, rendered, status);
  ConflictGuard guard(in, plan);
  plan_objects(in, std::move(rendered.objects), guard, plan);
  if (decision) {
    plan_config_report(in, *config, *decision, plan);
    plan.prune = snapshots_pruned(*config, *decision);
    plan.config_condition = config_condition(*decision, status);
    if (decision->check_again_in) {
      plan.check_again = std::chrono::duration_cast<std::chrono::milliseconds>(*decision->check_again_in);
    }
    plan_effect(in, spec, *config, *decision, plan);
  }
  guard.finish();
}

}  // namespace

std::string key_of(const nlohmann::json& object) {
  const auto& meta = object["metadata"];
  const std::string ns = meta.value("namespace", "");
  const std::string name = meta.value("name", "");
  return ns.empty() ? name : ns + "/" + name;
}

std::string owner_uid(const nlohmann::json& object) {
  const auto& meta = object["metadata"];
  if (auto refs = meta.find("ownerReferences"); refs != meta.end() && refs->is_array()) {
    for (const auto& ref : *refs) {
      if (ref.value("kind", "") == "ClusterPolicy" && ref.value("controller", false)) return ref.value("uid", "");
    }
  }
  return {};
}

void oldest_first(std::vector<nlohmann::json>& policies) {
  std::sort(policies.begin(), policies.end(),
            [](const auto& a, const auto& b) { return creation_key(a) < creation_key(b); });
}

Plan plan(const ReconcileInputs& in) {
  Plan plan;
  const auto& active = in.policies.front();
  plan_ignored(in, plan);
  auto& status = plan.status_inputs;
  status.ns = in.ns;
  status.generation = active.object["metadata"].value("generation", 0L);
  status.previous = active.status;
  status.now = in.now;
  status.any_gpu_node = any_gpu_node(in);
  status.failing_since = in.failing_since;
  try {
    plan_operands(in, plan);
  } catch (const SpecError& e) {
    plan.halted = true;
    status.failure = Failure{reason::kInvalidSpec, e.what()};
    if (!reports_failure(status.previous, *status.failure)) {
      plan.events.push_back({active.object, EventKind::Warning, event_reason::kInvalidSpec, e.what()});
    }
  } catch (const std::exception& e) {
    plan.halted = true;
    plan.render_error = e.what();
    status.failure = Failure{reason::kRenderFailed, std::string("rendering the operands failed: ") + e.what()};
  }
  if (plan.halted) {
    // Of what was planned before the failure, the ignored ClusterPolicies, the
    // snapshot (created before the render) and the record stand.
    Plan halted;
    halted.ignored = std::move(plan.ignored);
    halted.snapshot = std::move(plan.snapshot);
    halted.record = std::move(plan.record);
    halted.halted = true;
    halted.render_error = std::move(plan.render_error);
    halted.events = std::move(plan.events);
    halted.status_inputs = std::move(plan.status_inputs);
    plan = std::move(halted);
  }
  plan.status = status_after(plan, {});
  return plan;
}

std::string summarize(const std::vector<std::string>& errors) {
  constexpr std::size_t kShown = 5;
  std::string message;
  for (std::size_t i = 0; i < errors.size() && i < kShown; ++i) message += (i ? "; " : "") + errors[i];
  if (errors.size() > kShown) message += "; and " + std::to_string(errors.size() - kShown) + " more (see the operator's log)";
  return message;
}

nlohmann::json status_after(const Plan& plan, const std::vector<std::string>& errors) {
  StatusInputs in = plan.status_inputs;
  if (!plan.halted && !errors.empty()) in.failure = Failure{reason::kReconcileFailed, summarize(errors)};
  nlohmann::json status = compute_status(in);
  if (plan.config_condition) status["conditions"].push_back(*plan.config_condition);
  return status;
}

}  // namespace cpo::clusterpolicy
