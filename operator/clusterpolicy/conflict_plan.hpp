// The conflict part of the plan (internal to plan.cpp, and its tests): which
// drifted operands are re-applied and which are held because another manager
// keeps writing them (conflict.hpp), the Events and counters of a change, the
// status.operandConflicts block and what to remember for the next reconcile.
//
// A person resumes every held object at once by setting the ClusterPolicy's
// annotation kResumeApplyAnnotation to a value it has not had.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "clusterpolicy/conflict.hpp"
#include "clusterpolicy/plan.hpp"

namespace cpo::clusterpolicy {

class ConflictGuard {
 public:
  ConflictGuard(const ReconcileInputs& in, Plan& plan);

  // A planned update of `kind key` whose live copy differs from `desired`: true
  // when it goes ahead; `difference` is set to the field that differs.
  bool allow_update(const std::string& kind, const std::string& key, const nlohmann::json& live,
                    const nlohmann::json& desired, std::string& difference);

  // After every object is planned: status, memory, when to look again.
  void finish();

 private:
  const ReconcileInputs& in_;
  Plan& plan_;
  ConflictMemory memory_;
  std::chrono::seconds quiet_;
  std::set<std::string> drifted_;  // objects whose update was judged this reconcile
};

// The held objects as status.operandConflicts lists them, and back (a restart
// reads its memory from there).
nlohmann::json conflicts_status(const ConflictMemory& memory, std::chrono::seconds quiet);
ConflictMemory conflicts_from_status(const nlohmann::json& status);

}  // namespace cpo::clusterpolicy
