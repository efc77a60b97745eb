#include "clusterpolicy/controller.hpp"

#include <algorithm>
#include <future>
#include <set>

#include <spdlog/spdlog.h>

#include "apimachinery/hash.hpp"
#include "apimachinery/merge_patch.hpp"
#include "apimachinery/rfc3339.hpp"
#include "clusterpolicy/apply_diff.hpp"
#include "clusterpolicy/config_rollout.hpp"
#include "clusterpolicy/node_labels.hpp"
#include "clusterpolicy/observe.hpp"
#include "clusterpolicy/plugin_context.hpp"
#include "clusterpolicy/snapshot.hpp"
#include "clusterpolicy/spec.hpp"
#include "clusterpolicy/status.hpp"
#include "clusterpolicy/vocabulary.hpp"

namespace cpo::clusterpolicy {

namespace {

constexpr const char* kReconcileKey = "cluster-policy";

// Labels the node cache keeps: the operator reads nothing else of a Node.
bool node_label_kept(const std::string& key) {
  return key.rfind("nvidia.com/", 0) == 0 || key == kNfdNvidiaPciLabel;
}

std::string creation_key(const nlohmann::json& object) {
  // RFC 3339 timestamps in UTC sort as text; the name breaks ties.
  return object["metadata"].value("creationTimestamp", "") + "\x01" + object["metadata"].value("name", "");
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

// The part of a desired object compared with the cache (the cache's list items
// carry no apiVersion/kind).
nlohmann::json comparable(const nlohmann::json& desired) {
  nlohmann::json copy = desired;
  copy.erase("apiVersion");
  copy.erase("kind");
  return copy;
}

std::optional<int> label_int(const nlohmann::json& labels, const char* key) {
  auto it = labels.find(key);
  if (it == labels.end() || !it->is_string()) return std::nullopt;
  try {
    return std::stoi(it->get<std::string>());
  } catch (...) {
    return std::nullopt;
  }
}

// The ConfigValid condition that joins Ready and Error while a config is in use.
nlohmann::json config_condition(const ConfigDecision& decision, const StatusInputs& status) {
  bool valid = decision.outcome == ConfigOutcome::Current || decision.outcome == ConfigOutcome::Rolling;
  const char* why = valid ? reason::kValid
                    : decision.outcome == ConfigOutcome::Invalid ? reason::kConfigInvalid
                    : decision.outcome == ConfigOutcome::Missing ? reason::kConfigMissing
                                                                 : reason::kRolloutFailed;
  return make_condition(condition::kConfigValid, valid, why, decision.message, status.generation, status.previous,
                        apimachinery::rfc3339(status.now));
}

// The first few errors and how many more: a status message stays readable and
// far below the API's size limit whatever the cluster's size.
std::string summarize(const std::vector<std::string>& errors) {
  constexpr std::size_t kShown = 5;
  std::string message;
  for (std::size_t i = 0; i < errors.size() && i < kShown; ++i) message += (i ? "; " : "") + errors[i];
  if (errors.size() > kShown) message += "; and " + std::to_string(errors.size() - kShown) + " more (see the operator's log)";
  return message;
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

}  // namespace

struct ClusterPolicyController::Caches {
  runtime::Informer* policies = nullptr;
  runtime::Informer* daemonsets = nullptr;
  runtime::Informer* serviceaccounts = nullptr;
  runtime::Informer* clusterroles = nullptr;
  runtime::Informer* clusterrolebindings = nullptr;
  runtime::Informer* nodes = nullptr;
  runtime::Informer* runtimeclasses = nullptr;
  runtime::Informer* configmaps = nullptr;
  runtime::Controller* controller = nullptr;

  // The cache and resource for a kind we render.
  std::pair<runtime::Informer*, const kube::Resource*> owned(const std::string& kind) const {
    if (kind == "DaemonSet") return {daemonsets, &kube::resources::daemonsets};
    if (kind == "ServiceAccount") return {serviceaccounts, &kube::resources::serviceaccounts};
    if (kind == "ClusterRole") return {clusterroles, &kube::resources::clusterroles};
    if (kind == "ClusterRoleBinding") return {clusterrolebindings, &kube::resources::clusterrolebindings};
    throw std::logic_error("render produced a kind the controller does not watch: " + kind);
  }
  std::vector<runtime::Informer*> owned_informers() const {
    return {serviceaccounts, clusterroles, clusterrolebindings, daemonsets};
  }
};

ClusterPolicyController::ClusterPolicyController(kube::Client& client, runtime::Manager& manager,
                                                 runtime::EventRecorder& events, ControllerOptions options)
    : client_(client), events_(events), options_(std::move(options)), caches_(std::make_unique<Caches>()) {
  auto& c = *caches_;
  if (options_.metrics) {
    rejections_ = &prometheus::BuildCounter()
                       .Name("clusterpolicy_operator_config_rejections_total")
                       .Help("Device-plugin config edits rejected by validation, by ConfigMap")
                       .Register(options_.metrics->registry());
    rollbacks_ = &prometheus::BuildCounter()
                      .Name("clusterpolicy_operator_config_rollbacks_total")
                      .Help("Config rollouts rolled back after making no progress for the rollout deadline, by ConfigMap")
                      .Register(options_.metrics->registry());
  }
  // One worker: every event maps to the one key, which a queue never hands to two workers.
  c.controller = &manager.add_controller("clusterpolicy", [this](const std::string&) { return reconcile(); });
  auto enqueue = [queue = &c.controller->queue()] { queue->add(kReconcileKey); };
  runtime::EventHandler any_change{[enqueue](const runtime::ObjectPtr&) { enqueue(); },
                                   [enqueue](const runtime::ObjectPtr&, const runtime::ObjectPtr&) { enqueue(); },
                                   [enqueue](const runtime::ObjectPtr&) { enqueue(); }};
  auto watch = [&](const kube::Resource& resource, runtime::InformerOptions informer_options,
                   const runtime::EventHandler& handler) {
    auto& informer = manager.add_informer(resource, std::move(informer_options));
    informer.add_handler(handler);
    return &informer;
  };
  c.policies = watch(kube::resources::clusterpolicies, {}, any_change);
  c.daemonsets = watch(kube::resources::daemonsets, {.ns = options_.ns, .label_selector = kManagedBySelector}, any_change);
  c.serviceaccounts = watch(kube::resources::serviceaccounts, {.ns = options_.ns, .label_selector = kManagedBySelector}, any_change);
  c.clusterroles = watch(kube::resources::clusterroles, {.label_selector = kManagedBySelector}, any_change);
  c.clusterrolebindings = watch(kube::resources::clusterrolebindings, {.label_selector = kManagedBySelector}, any_change);
  c.runtimeclasses = watch(kube::resources::runtimeclasses, {.metadata_only = true}, any_change);
  c.configmaps = watch(kube::resources::configmaps, {.ns = options_.ns}, any_change);

  // Nodes: metadata only, and only the labels the operator reads, so the cache
  // costs bytes per node whatever the size of the Node objects.
  runtime::InformerOptions node_options;
  node_options.metadata_only = true;
  node_options.transform = [](nlohmann::json& node) {
    auto& meta = node["metadata"];
    nlohmann::json kept = nlohmann::json::object();
    if (auto labels = meta.find("labels"); labels != meta.end() && labels->is_object()) {
      for (auto it = labels->begin(); it != labels->end(); ++it) {
        if (node_label_kept(it.key())) kept[it.key()] = *it;
      }
    }
    nlohmann::json slim = {{"metadata", {{"name", meta.value("name", "")},
                                         {"resourceVersion", meta.value("resourceVersion", "")},
                                         {"labels", std::move(kept)}}}};
    node = std::move(slim);
  };
  // A node matters when it comes, goes, or its kept labels change; heartbeats
  // (a new resourceVersion, same labels) do not cost a reconcile.
  runtime::EventHandler node_change{
      [enqueue](const runtime::ObjectPtr&) { enqueue(); },
      [enqueue](const runtime::ObjectPtr& old_node, const runtime::ObjectPtr& new_node) {
        if ((*old_node)["metadata"]["labels"] != (*new_node)["metadata"]["labels"]) enqueue();
      },
      [enqueue](const runtime::ObjectPtr&) { enqueue(); }};
  c.nodes = watch(kube::resources::nodes, std::move(node_options), node_change);
}

ClusterPolicyController::~ClusterPolicyController() = default;

ConfigInputs ClusterPolicyController::gather_config_inputs(const nlohmann::json& policy, const ClusterPolicySpec& spec,
                                                           std::chrono::system_clock::time_point now) const {
  const auto& c = *caches_;
  ConfigInputs in;
  in.ns = options_.ns;
  in.source_name = spec.device_plugin.config_name;
  in.default_key = spec.device_plugin.config_default;
  in.mig_strategy = spec.mig_strategy;  // the consumers' MIG_STRATEGY env beats the file
  const auto plugin = plugin_context(policy, spec, options_.images.device_plugin);
  in.plugin_version = plugin.version;
  in.plugin_version_warning = plugin.warning;
  in.plugin_env = plugin.env;
  in.unknown_keys = plugin.unknown_keys;
  in.now = now;
  const auto deadline = rollout_deadline(policy, options_.rollout_deadline);
  in.rollout_deadline = deadline.value;
  in.rollout_deadline_problem = deadline.problem;
  if (auto source = c.configmaps->store().get(options_.ns + "/" + in.source_name)) in.source_data = configmap_data(*source);

  for (const auto& node : c.nodes->store().list()) {
    const auto& labels = (*node)["metadata"]["labels"];
    deviceplugin::NodeSelection selection;
    selection.node = (*node)["metadata"]["name"];
    selection.selected_key = labels.value(kConfigNodeLabel, "");
    selection.compute_major = label_int(labels, kComputeMajorLabel);
    selection.compute_minor = label_int(labels, kComputeMinorLabel);
    if (!selection.selected_key.empty() || selection.compute_major) in.nodes.push_back(std::move(selection));
  }

  const std::string uid = policy["metadata"].value("uid", "");
  if (auto known = records_.find(uid); known != records_.end()) {
    in.record = known->second;
  } else {
    in.record = RolloutRecord::from_status(
        policy.value("status", nlohmann::json::object()).value("config", nlohmann::json::object()));
  }
  // Snapshots this ClusterPolicy owns, of any source: after a change of
  // config.name the consumers still mount one of the previous source.
  for (const auto& cm : c.configmaps->store().list()) {
    if (owner_uid(*cm) != uid) continue;
    if (auto snapshot = read_snapshot(*cm)) in.snapshots.push_back(std::move(*snapshot));
  }

  std::vector<std::string> consumers;
  if (spec.device_plugin.enabled) consumers = {kDevicePluginName, kMpsName};
  if (spec.gfd.enabled) consumers.push_back(kGfdName);
  for (const auto& name : consumers) {
    in.consumers.push_back(consumer_state(name, c.daemonsets->store().get(options_.ns + "/" + name).get()));
  }
  return in;
}

void ClusterPolicyController::report_config(const nlohmann::json& policy, const ConfigInputs& in,
                                            const ConfigDecision& decision, StatusInputs& status,
                                            std::vector<std::string>& errors) {
  auto& c = *caches_;
  nlohmann::json block = config_status(in, decision);
  status.extra["config"] = block;
  // The last report: remembered, or (first sight, e.g. after a restart) what the
  // status says.
  const std::string uid = policy["metadata"].value("uid", "");
  auto known = reported_.find(uid);
  if (known == reported_.end()) {
    const nlohmann::json previous = status.previous.value("config", nlohmann::json::object());
    known = reported_
                .emplace(uid, ConfigReport{previous.value("state", ""), previous.value("hash", ""),
                                           previous.value("nodesSelectingUnknownKeys", nlohmann::json::object())})
                .first;
  }
  ConfigReport& last = known->second;
  const bool changed = block.value("state", "") != last.state || block.value("hash", "") != last.hash;
  last.state = block.value("state", "");
  last.hash = block.value("hash", "");
  const nlohmann::json unknown_nodes = block.value("nodesSelectingUnknownKeys", nlohmann::json::object());
  const bool unknown_nodes_changed = unknown_nodes != last.unknown_nodes;
  last.unknown_nodes = unknown_nodes;

  auto source = c.configmaps->store().get(options_.ns + "/" + in.source_name);
  switch (decision.outcome) {
    case ConfigOutcome::Invalid: {
      std::string all;
      for (const auto& line : block.value("errors", nlohmann::json::array())) all += "\n" + line.get<std::string>();
      status.failure = Failure{reason::kConfigInvalid, decision.message};
      if (changed) {
        events_.record(policy, runtime::EventType::Warning, event_reason::kConfigInvalid, decision.message + all);
        if (source) {
          events_.record(*source, runtime::EventType::Warning, event_reason::kConfigInvalid, decision.message + all);
        }
        if (rejections_) rejections_->Add({{"configmap", in.source_name}}).Increment();
      }
      break;
    }
    case ConfigOutcome::Missing:
      status.failure = Failure{reason::kConfigMissing, decision.message};
      if (changed) events_.record(policy, runtime::EventType::Warning, event_reason::kConfigMissing, decision.message);
      break;
    case ConfigOutcome::RolledBack:
    case ConfigOutcome::PreviouslyFailed:
      status.failure = Failure{reason::kRolloutFailed, decision.message};
      break;
    case ConfigOutcome::Rolling:
      if (changed) events_.record(policy, runtime::EventType::Normal, event_reason::kConfigRollingOut, decision.message);
      break;
    case ConfigOutcome::Current:
      break;
  }
  if (decision.rollback_message) {
    if (rollbacks_) rollbacks_->Add({{"configmap", in.source_name}}).Increment();
    events_.record(policy, runtime::EventType::Warning, event_reason::kRolloutFailed, *decision.rollback_message);
    if (source) events_.record(*source, runtime::EventType::Warning, event_reason::kRolloutFailed, *decision.rollback_message);
  }
  if (decision.rolled_out_message) {
    events_.record(policy, runtime::EventType::Normal, event_reason::kConfigRolledOut, *decision.rolled_out_message);
    if (source) events_.record(*source, runtime::EventType::Normal, event_reason::kConfigRolledOut, *decision.rolled_out_message);
  }
  if (!decision.nodes_with_unknown_keys.empty() && unknown_nodes_changed) {
    std::string list;
    for (const auto& n : decision.nodes_with_unknown_keys) list += (list.empty() ? "" : ", ") + n;
    events_.record(policy, runtime::EventType::Warning, event_reason::kNodeSelectsUnknownConfig,
                   "nodes label " + std::string(kConfigNodeLabel) + " with a key ConfigMap " + in.source_name +
                       " does not have; their config-manager will fail: " + list);
  }

  // Keep the newest snapshots (rollback targets, of any source) and every one a
  // consumer still mounts or the record points at; delete the rest.
  std::vector<std::string> referenced;
  auto reference_hash = [&](const std::string& hash) {
    for (const auto& snapshot : in.snapshots) {
      if (!hash.empty() && snapshot.hash == hash) referenced.push_back(snapshot.name);
    }
  };
  if (decision.source) referenced.push_back(decision.source->configmap_name);
  for (const auto& consumer : in.consumers) reference_hash(consumer.template_hash);
  reference_hash(decision.record.applied_hash);
  reference_hash(decision.record.desired_hash);
  std::vector<Snapshot> snapshots = in.snapshots;
  if (decision.create_snapshot && decision.source) {
    // Created in this reconcile, so not in the cache yet: it is the newest.
    snapshots.push_back({decision.source->configmap_name, decision.source->content_hash, std::nullopt,
                         std::nullopt, {}, apimachinery::rfc3339(in.now)});
  }
  for (const auto& name : snapshots_to_prune(snapshots, referenced)) {
    try {
      client_.remove(kube::resources::configmaps, {options_.ns, name, ""});
      spdlog::info("deleted old config snapshot {}/{}", options_.ns, name);
    } catch (const kube::ApiError& e) {
      if (!e.is_not_found()) errors.push_back("deleting snapshot " + name + ": " + e.message());
    }
  }
}

nlohmann::json ClusterPolicyController::current_status(const nlohmann::json& policy) const {
  const auto& meta = policy["metadata"];
  if (auto written = written_status_.find(meta.value("uid", ""));
      written != written_status_.end() && written->second.superseded.count(meta.value("resourceVersion", ""))) {
    return written->second.status;
  }
  return policy.value("status", nlohmann::json::object());
}

runtime::ReconcileResult ClusterPolicyController::reconcile() {
  const auto started = std::chrono::steady_clock::now();
  auto elapsed_ms = [&] {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
  };
  auto& c = *caches_;
  auto policies = c.policies->store().list();
  if (policies.empty()) {
    records_.clear();
    return runtime::ReconcileResult::done();
  }
  std::sort(policies.begin(), policies.end(),
            [](const auto& a, const auto& b) { return creation_key(*a) < creation_key(*b); });
  // Forget the rollout records of ClusterPolicies that are gone.
  std::erase_if(records_, [&](const auto& entry) {
    return std::none_of(policies.begin(), policies.end(),
                        [&](const auto& p) { return (*p)["metadata"].value("uid", "") == entry.first; });
  });
  const auto now = std::chrono::system_clock::now();
  std::vector<std::string> errors;

  // Forget what was written or reported about ClusterPolicies that are gone, and
  // written statuses the cache has caught up with.
  std::erase_if(written_status_, [&](const auto& entry) {
    return std::none_of(policies.begin(), policies.end(), [&](const auto& p) {
      return (*p)["metadata"].value("uid", "") == entry.first &&
             entry.second.superseded.count((*p)["metadata"].value("resourceVersion", ""));
    });
  });
  std::erase_if(reported_, [&](const auto& entry) {
    return std::none_of(policies.begin(), policies.end(),
                        [&](const auto& p) { return (*p)["metadata"].value("uid", "") == entry.first; });
  });
  auto write_status = [&](const nlohmann::json& policy, const nlohmann::json& status) {
    nlohmann::json previous = current_status(policy);
    if (previous == status) return;
    const std::string name = policy["metadata"]["name"];
    try {
      auto written = client_.patch(kube::resources::clusterpolicies, {"", name, "status"}, kube::PatchType::Merge,
                                   {{"status", apimachinery::merge_patch_between(previous, status)}});
      auto& entry = written_status_[policy["metadata"].value("uid", "")];
      entry.superseded.insert(policy["metadata"].value("resourceVersion", ""));
      if (!entry.latest.empty()) entry.superseded.insert(entry.latest);
      entry.latest = written["metadata"].value("resourceVersion", "");
      entry.status = written.value("status", nlohmann::json::object());
    } catch (const std::exception& e) {
      errors.push_back("status of ClusterPolicy " + name + ": " + e.what());
    }
  };

  // Only the oldest ClusterPolicy is honoured; the others are told so, in writing.
  const nlohmann::json& active = *policies.front();
  const std::string active_name = active["metadata"]["name"];
  for (std::size_t i = 1; i < policies.size(); ++i) {
    const auto& other = *policies[i];
    const nlohmann::json previous = current_status(other);
    nlohmann::json status = ignored_status(active_name, options_.ns, other["metadata"].value("generation", 0L),
                                           previous, now);
    if (previous.value("state", "") != "ignored") {
      events_.record(other, runtime::EventType::Warning, event_reason::kIgnored,
                     "ClusterPolicy " + active_name + " is active (the oldest); this one is ignored");
    }
    write_status(other, status);
  }

  StatusInputs status_in;
  status_in.ns = options_.ns;
  status_in.generation = active["metadata"].value("generation", 0L);
  status_in.previous = current_status(active);
  status_in.now = now;

  // Node labels first: they decide where the DaemonSets run.
  bool any_gpu = false;
  for (const auto& node : c.nodes->store().list()) {
    Labels labels;
    for (auto it = (*node)["metadata"]["labels"].begin(); it != (*node)["metadata"]["labels"].end(); ++it) {
      if (it->is_string()) labels[it.key()] = it->get<std::string>();
    }
    any_gpu = any_gpu || has_gpu(labels);
    auto changes = node_label_changes(labels);
    if (changes.empty()) continue;
    nlohmann::json patch_labels = nlohmann::json::object();
    for (const auto& [key, value] : changes) patch_labels[key] = value ? nlohmann::json(*value) : nlohmann::json(nullptr);
    const std::string node_name = (*node)["metadata"]["name"];
    try {
      client_.patch(kube::resources::nodes, {"", node_name, ""}, kube::PatchType::Merge,
                    {{"metadata", {{"labels", patch_labels}}}});
      spdlog::info("node {}: labels {}", node_name, patch_labels.dump());
    } catch (const kube::ApiError& e) {
      errors.push_back("labels of node " + node_name + ": " + e.message());
    }
  }
  status_in.any_gpu_node = any_gpu;

  // Render what should exist.
  Rendered rendered;
  std::optional<ClusterPolicySpec> spec;
  std::optional<ConfigInputs> config;
  std::optional<ConfigDecision> decision;
  try {
    spec = parse_spec(active.value("spec", nlohmann::json::object()));
    RenderInputs inputs;
    inputs.cluster_policy = active;
    inputs.ns = options_.ns;
    inputs.images = options_.images;
    inputs.runtime_class_exists = static_cast<bool>(c.runtimeclasses->store().get(spec->operator_.runtime_class));
    if (!spec->device_plugin.config_name.empty()) {
      config = gather_config_inputs(active, *spec, now);
      const double before_decide = elapsed_ms();
      decision = decide_config(*config);
      spdlog::debug("reconcile: config {} decided at {:.1f} ms (inputs and validation from {:.1f} ms)",
                    to_string(decision->outcome), elapsed_ms(), before_decide);
      records_[active["metadata"].value("uid", "")] = decision->record;
      // The snapshot goes first: the DaemonSets about to be applied mount it. If
      // it cannot be created, the consumers stay on the last good one.
      if (decision->create_snapshot && decision->source && config->source_data) {
        auto keep_last_good = [&](const std::string& why) {
          errors.push_back("creating snapshot " + decision->source->configmap_name + ": " + why);
          decision->source = last_good_source(*config);
          decision->create_snapshot = false;
        };
        try {
          client_.create(kube::resources::configmaps,
                         render_snapshot(config->source_name,
                                         {*config->source_data, config->default_key, config->mig_strategy},
                                         options_.ns, active),
                         {options_.field_manager});
          spdlog::info("created config snapshot {}/{} ({:.1f} ms into the reconcile)", options_.ns,
                       decision->source->configmap_name, elapsed_ms());
        } catch (const kube::ApiError& e) {
          if (!e.is_already_exists()) keep_last_good(e.message());
        } catch (const std::exception& e) {
          keep_last_good(e.what());
        }
      }
      inputs.config = decision->source;
    }
    rendered = render(inputs);
    spdlog::debug("reconcile: rendered at {:.1f} ms", elapsed_ms());
  } catch (const SpecError& e) {
    status_in.failure = Failure{reason::kInvalidSpec, e.what()};
    if (!reports_failure(status_in.previous, *status_in.failure)) {
      events_.record(active, runtime::EventType::Warning, event_reason::kInvalidSpec, e.what());
    }
    write_status(active, compute_status(status_in));
    if (!errors.empty()) return runtime::ReconcileResult::failed(summarize(errors));
    return runtime::ReconcileResult::done();  // a spec edit brings the next reconcile
  } catch (const std::exception& e) {
    status_in.failure = Failure{reason::kRenderFailed, std::string("rendering the operands failed: ") + e.what()};
    write_status(active, compute_status(status_in));
    throw;
  }
  if (config && !config->rollout_deadline_problem.empty()) {
    const auto& noted = status_in.previous.value("notes", nlohmann::json::array());
    if (std::find(noted.begin(), noted.end(), config->rollout_deadline_problem) == noted.end()) {
      events_.record(active, runtime::EventType::Warning, event_reason::kInvalidAnnotation, config->rollout_deadline_problem);
    }
    rendered.notes.push_back(config->rollout_deadline_problem);
  }
  if (!rendered.notes.empty()) status_in.extra["notes"] = rendered.notes;

  // Apply what differs from the caches.
  const std::string active_uid = active["metadata"].value("uid", "");
  std::set<std::pair<std::string, std::string>> desired_keys;  // (kind, key)
  struct Pending {
    const nlohmann::json* object;
    const kube::Resource* resource;
    runtime::ObjectPtr live;
  };
  std::vector<Pending> prerequisites;  // ServiceAccounts and RBAC the pods need
  std::vector<Pending> daemonsets;
  for (auto& object : rendered.objects) stamp_digest(object);
  for (const auto& object : rendered.objects) {
    const std::string kind = object["kind"];
    auto [informer, resource] = c.owned(kind);
    const std::string key = runtime::object_key(object);
    desired_keys.insert({kind, key});
    auto live = informer->store().get(key);
    if (live && contains(*live, comparable(object))) continue;
    (kind == "DaemonSet" ? daemonsets : prerequisites).push_back({&object, resource, live});
  }
  // One apply. Its Event is recorded by the caller once every apply is done, so
  // Event writes never compete with the applies a rollout waits for.
  struct Outcome {
    std::string error;  // "" on success
    runtime::EventType type = runtime::EventType::Normal;
    std::string reason;
    std::string message;
  };
  auto apply_one = [&](const Pending& p) -> Outcome {
    const std::string what = (*p.object)["kind"].get<std::string>() + " " + runtime::object_key(*p.object);
    try {
      client_.apply(*p.resource, *p.object, options_.field_manager, /*force=*/true);
      if (p.live) {
        std::string field = first_difference(*p.live, comparable(*p.object));
        spdlog::info("updated {} ({} differed)", what, field);
        return {"", runtime::EventType::Normal, event_reason::kUpdated, "Updated " + what + " (" + field + ")"};
      }
      spdlog::info("created {}", what);
      return {"", runtime::EventType::Normal, event_reason::kCreated, "Created " + what};
    } catch (const kube::ApiError& e) {
      return {what + ": " + e.message(), runtime::EventType::Warning, event_reason::kApplyFailed,
              "Applying " + what + " failed: " + e.message()};
    } catch (const std::exception& e) {
      return {what + ": " + e.what(), runtime::EventType::Warning, event_reason::kApplyFailed,
              "Applying " + what + " failed: " + e.what()};
    }
  };
  std::vector<Outcome> outcomes;
  for (const auto& p : prerequisites) outcomes.push_back(apply_one(p));
  // The DaemonSets are independent of each other: applied in parallel, so a
  // config change reaches every consumer in about one write's time.
  std::vector<std::future<Outcome>> applies;
  for (const auto& p : daemonsets) applies.push_back(std::async(std::launch::async, apply_one, std::cref(p)));
  for (auto& f : applies) outcomes.push_back(f.get());
  if (!prerequisites.empty() || !daemonsets.empty()) {
    spdlog::debug("reconcile: {} objects and {} DaemonSets applied at {:.1f} ms", prerequisites.size(),
                  daemonsets.size(), elapsed_ms());
  }
  for (const auto& o : outcomes) {
    if (!o.error.empty()) errors.push_back(o.error);
    events_.record(active, o.type, o.reason, o.message);
  }
  // Remove what this policy owns but no longer wants (an operand disabled).
  for (auto* informer : c.owned_informers()) {
    for (const auto& live : informer->store().list()) {
      const std::string kind = informer->resource().kind;
      const std::string key = runtime::object_key(*live);
      if (owner_uid(*live) != active_uid || desired_keys.count({kind, key})) continue;
      try {
        kube::DeleteOptions del;
        del.precondition_uid = (*live)["metadata"].value("uid", "");
        del.propagation_policy = "Background";
        client_.remove(informer->resource(), {(*live)["metadata"].value("namespace", ""),
                                               (*live)["metadata"].value("name", ""), ""}, del);
        spdlog::info("deleted {} {}", kind, key);
        events_.record(active, runtime::EventType::Normal, event_reason::kDeleted, "Deleted " + kind + " " + key);
      } catch (const kube::ApiError& e) {
        if (!e.is_not_found()) errors.push_back("deleting " + kind + " " + key + ": " + e.message());
      }
    }
  }

  if (decision) report_config(active, *config, *decision, status_in, errors);

  // Status from what the caches say about the operands.
  for (const auto& object : rendered.objects) {
    if (object["kind"] != "DaemonSet") continue;
    auto live = c.daemonsets->store().get(runtime::object_key(object));
    status_in.operands.push_back(operand_readiness(object["metadata"]["name"], live.get()));
  }
  if (!errors.empty()) status_in.failure = Failure{reason::kReconcileFailed, summarize(errors)};
  nlohmann::json status = compute_status(status_in);
  if (decision) status["conditions"].push_back(config_condition(*decision, status_in));
  write_status(active, status);
  std::optional<std::chrono::milliseconds> check_again;
  if (decision && decision->check_again_in) {
    check_again = std::chrono::duration_cast<std::chrono::milliseconds>(*decision->check_again_in);
  }
  // Retried with backoff; a rollout deadline is still checked on time, however
  // long the backoff has grown.
  if (!errors.empty()) return runtime::ReconcileResult::failed(summarize(errors), check_again);
  if (check_again) return runtime::ReconcileResult::after(*check_again);
  return runtime::ReconcileResult::done();
}

}  // namespace cpo::clusterpolicy
