// An informer: list, then watch, one kind of resource, keeping an in-memory cache
// and telling handlers about every change.
//
// The contract follows client-go's: handlers see adds for the initial list before
// has_synced() turns true; a watch resumes from the last resourceVersion it saw
// (bookmarks keep that fresh); a watch that the server ends (timeoutSeconds,
// randomised so watches recycle) is re-opened at once; a broken connection is
// retried with jittered exponential backoff, and so is a watch that ended within
// a second having delivered nothing, so that a server ending every watch at once
// is not hammered; when the server says the version is gone (410) the informer
// lists again and delivers the difference — adds, updates and deletes of objects
// that changed or vanished while it was away — so nothing is lost. A paged list
// whose continue token expires (410) falls back to one list of everything at
// once, as client-go's pager does.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "kube/client.hpp"
#include "runtime/store.hpp"

namespace cpo::runtime {

struct EventHandler {
  std::function<void(const ObjectPtr&)> on_add;
  std::function<void(const ObjectPtr& old_object, const ObjectPtr& new_object)> on_update;
  std::function<void(const ObjectPtr&)> on_delete;
};

// Edits an object before it is cached (drop what the controller never reads).
// metadata.managedFields is dropped before the transform runs (unless kept).
using Transform = std::function<void(nlohmann::json&)>;

struct InformerOptions {
  std::string ns;              // empty = all namespaces (or a cluster-scoped kind)
  std::string label_selector;
  std::string field_selector;
  bool metadata_only = false;  // cache PartialObjectMetadata only
  bool keep_managed_fields = false;  // for who-writes-what (a few objects: it is the bulk of most)
  Transform transform;
  // Names the transform: the manager shares one informer between registrations
  // with equal options only when their transforms have the same (non-empty) name.
  std::string transform_name;
  std::chrono::seconds resync{0};  // 0 = off; otherwise every object is re-delivered as an update
  std::chrono::seconds min_watch_timeout{300};
  std::chrono::seconds max_watch_timeout{600};
  long page_size = 500;
  // Only these fields of each object, listed or watched, are decoded
  // (field_mask.hpp): the transform and the cache see no others. Default: all.
  kube::FieldMask fields;
  std::chrono::milliseconds initial_backoff{800};
  std::chrono::milliseconds max_backoff{std::chrono::seconds(30)};
};

struct InformerStats {
  std::size_t lists = 0;           // successful lists (1 = only the initial one)
  std::size_t watches = 0;         // watches opened
  std::size_t errors = 0;          // failed lists/watches
  std::string last_error;
  std::string resource_version;    // last seen
};

class Informer {
 public:
  Informer(kube::Client& client, kube::Resource resource, InformerOptions options = {});
  ~Informer();
  Informer(const Informer&) = delete;
  Informer& operator=(const Informer&) = delete;

  // Handlers must be added before start(). They run on the informer's thread, one
  // at a time, after the cache already holds the change.
  void add_handler(EventHandler handler);

  // Starts the list-and-watch thread. After stop(), start() resumes watching from
  // the last resourceVersion seen (the cache is kept), as a reconnect would.
  void start();
  // Ends the watch and joins the thread; handlers are not called after it returns.
  void stop();
  // The first half of stop(), without waiting: stopping many informers costs the
  // longest in-flight request, not the sum of them.
  void request_stop();

  bool has_synced() const { return synced_.load(); }
  // Blocks until synced, stopped, or the timeout passes; returns has_synced().
  bool wait_for_sync(std::chrono::milliseconds timeout) const;

  const Store& store() const { return store_; }
  const kube::Resource& resource() const { return resource_; }
  const InformerOptions& options() const { return options_; }
  InformerStats stats() const;

 private:
  void run();
  bool list_and_sync();
  struct WatchOutcome {
    bool relist = false;     // the server said the version is gone (410)
    std::size_t events = 0;  // events handled, bookmarks included
  };
  WatchOutcome watch_once();
  ObjectPtr prepare(nlohmann::json object) const;
  void handle_watch_event(kube::WatchEvent& event);
  void set_resource_version(const std::string& rv);
  void record_error(const std::string& what);
  // Sleeps unless stopped first; returns false when stopped.
  bool sleep_for(std::chrono::milliseconds delay);
  void resync_loop();
  void dispatch(const std::function<void(const EventHandler&)>& call);

  kube::Client& client_;
  kube::Resource resource_;
  InformerOptions options_;
  std::vector<EventHandler> handlers_;
  Store store_;

  std::atomic<bool> synced_{false};
  std::atomic<bool> stopping_{false};
  std::thread thread_;
  std::thread resync_thread_;
  std::mutex dispatch_mutex_;  // one handler call at a time (watch and resync)

  mutable std::mutex mutex_;
  mutable std::condition_variable cv_;
  kube::WatchStream* active_watch_ = nullptr;  // guarded by mutex_
  InformerStats stats_;                        // guarded by mutex_
};

}  // namespace cpo::runtime
