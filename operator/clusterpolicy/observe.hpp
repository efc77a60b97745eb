// Observe: the cached objects of a reconcile turned into the typed inputs the pure
// decisions take. Pure: JSON in, values out; the controller reads the caches and
// calls these.
//
// Contract: every key is read under its current name first and, when absent, under
// the name release 0.1.0 wrote (vocabulary.hpp `legacy`), so an upgraded operator
// adopts the objects its predecessor left.
#pragma once

#include <chrono>
#include <initializer_list>
#include <string>

#include <nlohmann/json.hpp>

#include "clusterpolicy/config_rollout.hpp"

namespace cpo::clusterpolicy {

// A duration a ClusterPolicy asks for in an annotation (the first of `keys`
// present), else `fallback`. `problem` says why an annotation present was not
// used ("" when none): "annotation K=\"V\" ignored (why); the <what> is 600s".
struct DurationSetting {
  std::chrono::seconds value;
  std::string problem;
};
DurationSetting duration_annotation(const nlohmann::json& policy, std::initializer_list<const char*> keys,
                                    std::chrono::seconds fallback, const std::string& what, bool zero_allowed);

// The rollout deadline a ClusterPolicy asks for in its annotation, else `fallback`.
using RolloutDeadline = DurationSetting;
DurationSetting rollout_deadline(const nlohmann::json& policy, std::chrono::seconds fallback);

// One consumer DaemonSet as the config rollout sees it; `daemonset` null: not created yet.
ConsumerState consumer_state(const std::string& name, const nlohmann::json* daemonset);

}  // namespace cpo::clusterpolicy
