// The effect part of the plan (internal to plan.cpp, and its tests): which nodes
// are verified against which config, the status.effect block, and the Events of a
// change — a Warning when nodes turn Mismatched, a Normal Event once a config is
// in effect on every GPU node.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <string>

#include "clusterpolicy/effect.hpp"
#include "clusterpolicy/observe.hpp"
#include "clusterpolicy/plan.hpp"

namespace cpo::clusterpolicy {

// The grace period a ClusterPolicy asks for in its annotation, else `fallback`;
// `problem` says why an annotation present was not used ("" when none).
using GracePeriod = DurationSetting;
GracePeriod effect_grace_period(const nlohmann::json& policy, std::chrono::seconds fallback);

// What a config decision leaves to verify: the effect of the config the consumers
// mount. Adds status.effect (or why nothing is verified), the Events, the counts
// and the memory for the next reconcile to `plan`.
void plan_effect(const ReconcileInputs& in, const ClusterPolicySpec& spec, const ConfigInputs& config,
                 const ConfigDecision& decision, Plan& plan);

}  // namespace cpo::clusterpolicy
