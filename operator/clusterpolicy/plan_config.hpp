// The config-rollout part of the plan (internal to plan.cpp, and its tests):
// the decision's inputs from the observed objects, what to report about the
// decision, and which snapshots to prune.
#pragma once

#include "clusterpolicy/plan.hpp"

namespace cpo::clusterpolicy {

// The inputs of decide_config for the active ClusterPolicy `policy`.
ConfigInputs config_inputs(const ReconcileInputs& in, const nlohmann::json& policy, const ClusterPolicySpec& spec);

// The status.config block, the failure, the Events and the counters of a
// decision, and the report to remember.
void plan_config_report(const ReconcileInputs& in, const ConfigInputs& config, const ConfigDecision& decision,
                        Plan& plan);

// Snapshots to delete: all but the newest (counting the one `decision` creates),
// never one the consumers mount or the record points at.
std::vector<std::string> snapshots_pruned(const ConfigInputs& config, const ConfigDecision& decision);

// The ConfigValid condition that joins Ready and Error while a config is in use.
nlohmann::json config_condition(const ConfigDecision& decision, const StatusInputs& status);

}  // namespace cpo::clusterpolicy
