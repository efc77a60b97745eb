// Refusing to fight another controller over an operand, pure.
//
// Server-side apply records in metadata.managedFields which manager owns which
// field. When a rendered object differs from what the cluster holds, attribute()
// names who owns the first differing field: our own manager (our desired state
// moved on: apply) or another one (someone changed what we own: drift). Drift is
// repaired — a person's one-off `kubectl edit` is undone once — but when another
// manager keeps writing our fields (NVIDIA's own operator in the same cluster, a
// GitOps tool with a different copy), judge() stops re-applying that object after
// kRepairsBeforeHolding repairs within kRepairWindow: it is *held*, reported, and
// applied again only when that manager has been quiet for the quiet period (doubled
// each time the same object is held again, up to kMaxQuiet), or when a person
// resumes it. An object held once is held again at the first foreign write after
// it resumes, so the two controllers never take turns.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace cpo::clusterpolicy {

using ConflictTime = std::chrono::system_clock::time_point;

inline constexpr int kRepairsBeforeHolding = 3;
inline constexpr std::chrono::seconds kRepairWindow{600};
inline constexpr std::chrono::seconds kMaxQuiet{3600};
// An object not held, with no foreign write repaired for this long, starts afresh.
inline constexpr std::chrono::seconds kForgetAfter{3600};

// Who wrote the first field where `live` does not contain `desired`.
struct Attribution {
  std::string field;                      // "spec.template.spec.containers[0].image"; "" = no difference
  std::vector<std::string> managers;      // managers other than ours that own it (or wrote last, for a removed field)
  std::optional<ConflictTime> last_write; // the newest managedFields time among them
  bool foreign() const { return !managers.empty(); }
};

// `live` with its metadata.managedFields; `desired` as compared (contains()).
Attribution attribute(const nlohmann::json& live, const nlohmann::json& desired, const std::string& our_manager);

struct Held {
  std::string manager;   // the other writer, as managedFields names it
  std::string field;     // the field it writes
  ConflictTime since;
  ConflictTime last_write;  // when its newest write was seen (our clock: the API server's may differ)
  int strikes = 1;          // times this object was held: the quiet period doubles each time
  std::optional<ConflictTime> stamp;  // that write's managedFields time, to tell the next one
  bool operator==(const Held&) const = default;
};

// What is remembered of one object between reconciles.
struct ObjectHistory {
  std::vector<ConflictTime> repairs;   // of foreign writes, within kRepairWindow
  std::string repaired_version;        // the resourceVersion last repaired (a stale cache is not a new write)
  ConflictTime last_repair{};
  int strikes = 0;
  std::optional<Held> held;
  bool operator==(const ObjectHistory&) const = default;
};

struct Judgement {
  bool apply = true;
  bool held_now = false;  // this object is held from this reconcile on
  bool resumed = false;   // a held object is applied again (its writer was quiet)
};

// The quiet period after `strikes` holds.
std::chrono::seconds quiet_period(std::chrono::seconds quiet, int strikes);

// One planned update of an existing object whose live copy (at `version`) differs.
Judgement judge(ObjectHistory& history, const Attribution& who, const std::string& version, ConflictTime now,
                std::chrono::seconds quiet);

// When a held object may be applied again.
ConflictTime resumes_at(const Held& held, std::chrono::seconds quiet);

}  // namespace cpo::clusterpolicy
