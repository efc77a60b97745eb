#include "clusterpolicy/observe.hpp"

#include <stdexcept>

#include "clusterpolicy/status.hpp"
#include "clusterpolicy/vocabulary.hpp"
#include "apimachinery/duration.hpp"

namespace cpo::clusterpolicy {

RolloutDeadline rollout_deadline(const nlohmann::json& policy, std::chrono::seconds fallback) {
  RolloutDeadline out{fallback, ""};
  const auto metadata = policy.value("metadata", nlohmann::json::object());
  const auto annotations = metadata.value("annotations", nlohmann::json::object());
  // The first key present is the one read: the current name wins over the legacy one.
  for (const char* key : {kRolloutDeadlineAnnotation, legacy::kRolloutDeadlineAnnotation}) {
    const auto text = find_key(annotations, {key});
    if (!text) continue;
    if (text->empty()) return out;
    try {
      auto deadline = apimachinery::parse_duration(*text);
      if (deadline.count() <= 0) throw std::invalid_argument("the deadline must be longer than 0s");
      out.value = deadline;
    } catch (const std::exception& e) {
      out.problem = "annotation " + std::string(key) + "=\"" + *text + "\" ignored (" + e.what() +
                    "); the rollout deadline is " + std::to_string(fallback.count()) + "s";
    }
    return out;
  }
  return out;
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
