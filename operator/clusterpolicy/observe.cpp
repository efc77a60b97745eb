#include "clusterpolicy/observe.hpp"

#include <stdexcept>

#include "clusterpolicy/status.hpp"
#include "clusterpolicy/vocabulary.hpp"
#include "apimachinery/duration.hpp"

namespace cpo::clusterpolicy {

DurationSetting duration_annotation(const nlohmann::json& policy, std::initializer_list<const char*> keys,
                                    std::chrono::seconds fallback, const std::string& what, bool zero_allowed) {
  DurationSetting out{fallback, ""};
  const auto metadata = policy.value("metadata", nlohmann::json::object());
  const auto annotations = metadata.value("annotations", nlohmann::json::object());
  for (const char* key : keys) {
    const auto text = find_key(annotations, {key});
    if (!text) continue;
    if (text->empty()) return out;
    try {
      auto value = apimachinery::parse_duration(*text);
      if (zero_allowed && value.count() < 0) throw std::invalid_argument("the " + what + " cannot be negative");
      if (!zero_allowed && value.count() <= 0) throw std::invalid_argument("the " + what + " must be longer than 0s");
      out.value = value;
    } catch (const std::exception& e) {
      out.problem = "annotation " + std::string(key) + "=\"" + *text + "\" ignored (" + e.what() + "); the " + what +
                    " is " + std::to_string(fallback.count()) + "s";
    }
    return out;
  }
  return out;
}

DurationSetting rollout_deadline(const nlohmann::json& policy, std::chrono::seconds fallback) {
  // The current name wins over the legacy one.
  return duration_annotation(policy, {kRolloutDeadlineAnnotation, legacy::kRolloutDeadlineAnnotation}, fallback,
                             "rollout deadline", false);
}

ConsumerState consumer_state(const std::string& name, const nlohmann::json* daemonset) {
  ConsumerState state;
  state.name = name;
  if (!daemonset) return state;
  const auto spec = daemonset->value("spec", nlohmann::json::object());
  const auto template_meta = spec.value("template", nlohmann::json::object()).value("metadata", nlohmann::json::object());
  state.template_hash = find_key(template_meta.value("annotations", nlohmann::json::object()),
                                 {kConfigHashAnnotation, legacy::kConfigHashAnnotation})
                            .value_or("");
  const auto readiness = operand_readiness(name, daemonset);
  state.rolled_out = readiness.rolled_out();
  state.on_delete = readiness.on_delete;
  state.updated = readiness.updated;
  state.available = readiness.available;
  state.desired = readiness.desired;
  return state;
}

}  // namespace cpo::clusterpolicy
