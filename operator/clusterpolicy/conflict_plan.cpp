#include "clusterpolicy/conflict_plan.hpp"

#include <algorithm>

#include "apimachinery/duration.hpp"
#include "apimachinery/rfc3339.hpp"
#include "clusterpolicy/apply_diff.hpp"
#include "clusterpolicy/observe.hpp"
#include "clusterpolicy/vocabulary.hpp"

namespace cpo::clusterpolicy {

namespace {

using json = nlohmann::json;

std::string annotation(const json& policy, const char* key) {
  const auto annotations = policy.value("metadata", json::object()).value("annotations", json::object());
  return find_key(annotations, {key}).value_or("");
}

std::string resume_hint(const Held& held, std::chrono::seconds quiet) {
  return "not applied until it has been quiet for " + apimachinery::format_duration(quiet_period(quiet, held.strikes)) +
         " (at " + apimachinery::rfc3339(resumes_at(held, quiet)) + "), or until the annotation " +
         kResumeApplyAnnotation + " is set to a new value";
}

}  // namespace

json conflicts_status(const ConflictMemory& memory, std::chrono::seconds quiet) {
  json held = json::array();
  for (const auto& [object, history] : memory.objects) {
    if (!history.held) continue;
    const Held& h = *history.held;
    held.push_back({{"object", object},
                    {"manager", h.manager},
                    {"field", h.field},
                    {"since", apimachinery::rfc3339(h.since)},
                    {"lastWrite", apimachinery::rfc3339(h.last_write)},
                    {"strikes", h.strikes},
                    {"managerTime", h.stamp ? apimachinery::rfc3339(*h.stamp) : ""},
                    {"resumesAt", apimachinery::rfc3339(resumes_at(h, quiet))}});
  }
  json out = {{"held", held}};
  if (!memory.resume_token.empty()) out["resumeToken"] = memory.resume_token;
  return out;
}

ConflictMemory conflicts_from_status(const json& status) {
  ConflictMemory memory;
  const json block = status.value("operandConflicts", json::object());
  if (!block.is_object()) return memory;
  memory.resume_token = block.value("resumeToken", "");
  for (const auto& entry : block.value("held", json::array())) {
    if (!entry.is_object() || !entry.contains("object") || !entry["object"].is_string()) continue;
    const auto since = apimachinery::parse_rfc3339(entry.value("since", ""));
    const auto last = apimachinery::parse_rfc3339(entry.value("lastWrite", ""));
    if (!since || !last) continue;
    const int strikes = entry.contains("strikes") && entry["strikes"].is_number_integer() ? entry["strikes"].get<int>() : 1;
    ObjectHistory history;
    history.strikes = std::max(1, strikes);
    history.last_repair = *since;
    history.held = Held{entry.value("manager", ""), entry.value("field", ""), *since, *last, history.strikes,
                        apimachinery::parse_rfc3339(entry.value("managerTime", ""))};
    memory.objects[entry["object"].get<std::string>()] = std::move(history);
  }
  return memory;
}

ConflictGuard::ConflictGuard(const ReconcileInputs& in, Plan& plan)
    : in_(in), plan_(plan),
      memory_(in.conflicts ? *in.conflicts : conflicts_from_status(in.policies.front().status)),
      quiet_(in.conflict_quiet) {
  const json& policy = in.policies.front().object;
  const auto quiet = duration_annotation(policy, {kConflictQuietPeriodAnnotation}, in.conflict_quiet,
                                         "conflict quiet period", true);
  quiet_ = quiet.value;
  if (!quiet.problem.empty()) plan.status_inputs.extra["conflictQuietPeriodProblem"] = quiet.problem;
  // A new value of the resume annotation: a person says the other writer is gone.
  const std::string token = annotation(policy, kResumeApplyAnnotation);
  if (!token.empty() && token != memory_.resume_token) {
    for (const auto& [object, history] : memory_.objects) {
      if (!history.held) continue;
      plan.events.push_back({policy, EventKind::Normal, event_reason::kOperandResumed,
                             "Applying " + object + " again: resumed by annotation " + kResumeApplyAnnotation});
    }
    memory_.objects.clear();
    memory_.resume_token = token;
  }
}

bool ConflictGuard::allow_update(const std::string& kind, const std::string& key, const json& live,
                                 const json& desired, std::string& difference) {
  const std::string object = kind + " " + key;
  const Attribution who = attribute(live, desired, in_.field_manager);
  difference = first_difference(live, desired);
  drifted_.insert(object);
  auto& history = memory_.objects[object];
  const std::string version = live.value("metadata", json::object()).value("resourceVersion", "");
  const Judgement judgement = judge(history, who, version, in_.now, quiet_);
  const json& policy = in_.policies.front().object;
  if (judgement.held_now) {
    const Held& held = *history.held;
    plan_.held_kinds.push_back(kind);
    plan_.events.push_back({policy, EventKind::Warning, event_reason::kOperandConflict,
                            object + ": manager \"" + held.manager + "\" keeps writing " + held.field +
                                ", which this operator applies; " + resume_hint(held, quiet_)});
  }
  if (judgement.resumed) {
    plan_.events.push_back({policy, EventKind::Normal, event_reason::kOperandResumed,
                            "Applying " + object + " again: no other manager wrote it for " +
                                apimachinery::format_duration(quiet_period(quiet_, history.strikes))});
  }
  return judgement.apply;
}

void ConflictGuard::finish() {
  // A held object that agrees again (or is gone) is no longer held; histories of
  // objects no one has fought over for long are forgotten.
  for (auto entry = memory_.objects.begin(); entry != memory_.objects.end();) {
    auto& [object, history] = *entry;
    if (history.held && !drifted_.contains(object)) history.held.reset();
    const bool forgotten = !history.held && in_.now - history.last_repair > kForgetAfter;
    entry = forgotten ? memory_.objects.erase(entry) : std::next(entry);
  }
  auto& status = plan_.status_inputs;
  for (const auto& [object, history] : memory_.objects) {
    if (!history.held) continue;
    status.held.push_back({object, *history.held, resume_hint(*history.held, quiet_)});
    const auto wait = resumes_at(*history.held, quiet_) - in_.now + std::chrono::seconds(1);
    const auto again = std::max(std::chrono::milliseconds(1000), std::chrono::duration_cast<std::chrono::milliseconds>(wait));
    if (!plan_.check_again || again < *plan_.check_again) plan_.check_again = again;
  }
  const json block = conflicts_status(memory_, quiet_);
  if (!block["held"].empty() || block.contains("resumeToken")) status.extra["operandConflicts"] = block;
  plan_.conflicts = memory_;
}

}  // namespace cpo::clusterpolicy
