// core/v1 Events about the objects a controller manages, written in the
// background so that recording never blocks a reconcile.
//
// - A repeat of the same event (object, type, reason, message) within 10 minutes
//   of the previous one raises the existing Event's count instead of creating one.
// - Each involved object may emit a burst of 25 events, then one per 5 minutes;
//   the rest are dropped and counted, as are events arriving to a full queue.
// - Events about cluster-scoped objects go to namespace "default".
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "kube/client.hpp"
#include "runtime/clock.hpp"
#include "apimachinery/rfc3339.hpp"

namespace cpo::runtime {

enum class EventType { Normal, Warning };
std::string_view to_string(EventType type);

// Where Events are written. Calls come from the recorder's worker thread only.
class EventSink {
 public:
  virtual ~EventSink() = default;
  virtual void create(const std::string& ns, const nlohmann::json& event) = 0;
  // A JSON merge patch of the Event `ns/name`. Throws kube::ApiError (NotFound...).
  virtual void patch(const std::string& ns, const std::string& name, const nlohmann::json& patch) = 0;
};

class KubeEventSink final : public EventSink {
 public:
  explicit KubeEventSink(kube::Client& client) : client_(client) {}
  void create(const std::string& ns, const nlohmann::json& event) override;
  void patch(const std::string& ns, const std::string& name, const nlohmann::json& patch) override;

 private:
  kube::Client& client_;
};

struct EventRecorderOptions {
  std::string instance;  // reportingInstance and source.host; the host name when empty
  std::size_t queue_capacity = 1000;
  int burst = 25;                                        // events per object before throttling
  std::chrono::seconds refill{std::chrono::minutes(5)};  // one more event per `refill`
  std::chrono::seconds aggregation_window{std::chrono::minutes(10)};
  std::size_t max_tracked_objects = 4096;  // bounds the throttle and aggregation memory
};

class EventRecorder {
 public:
  EventRecorder(EventSink& sink, std::string component, const Clock& clock = SystemClock::instance(),
                EventRecorderOptions options = {});
  // Stops the worker; events still queued are dropped (call flush() first to keep them).
  ~EventRecorder();
  EventRecorder(const EventRecorder&) = delete;
  EventRecorder& operator=(const EventRecorder&) = delete;

  // `involved_object` is the object itself (apiVersion, kind, metadata.name,
  // namespace, uid, resourceVersion). Never blocks on the API server.
  void record(const nlohmann::json& involved_object, EventType type, const std::string& reason,
              const std::string& message);
  // Waits until every event recorded so far is written (or failed). False on timeout.
  bool flush(std::chrono::milliseconds timeout);
  // Events dropped by the per-object throttle or a full queue.
  std::uint64_t dropped() const;
  // Events the API server refused or that could not reach it.
  std::uint64_t failed() const;

 private:
  struct Pending {
    nlohmann::json involved;  // the involvedObject reference
    std::string object_key;   // uid, kind, namespace, name of the involved object
    std::string ns;
    std::string type;
    std::string reason;
    std::string message;
    Clock::steady_time at;
    Clock::wall_time wall_at;
  };
  struct Bucket {
    double tokens;
    Clock::steady_time refilled_at;
  };
  struct Written {
    std::string ns;
    std::string name;
    long count;
    Clock::steady_time last_at;
  };

  bool admit_locked(const std::string& object_key, Clock::steady_time now);
  void run();
  void write(const Pending& event);
  void create_event(const Pending& event, const std::string& key);

  EventSink& sink_;
  std::string component_;
  const Clock& clock_;
  EventRecorderOptions options_;

  mutable std::mutex mutex_;
  std::condition_variable work_cv_;
  std::condition_variable idle_cv_;
  std::deque<Pending> queue_;
  bool busy_ = false;
  bool stopping_ = false;
  std::uint64_t dropped_ = 0;
  std::uint64_t failed_ = 0;
  std::unordered_map<std::string, Bucket> buckets_;  // per involved object

  std::unordered_map<std::string, Written> written_;  // worker thread only
  std::thread worker_;
};


}  // namespace cpo::runtime
