#include "runtime/informer.hpp"

#include <random>

#include <spdlog/spdlog.h>

#include "runtime/backoff.hpp"

namespace cpo::runtime {

namespace {

std::string resource_version_of(const nlohmann::json& object) {
  auto meta = object.find("metadata");
  if (meta == object.end()) return {};
  return meta->value("resourceVersion", "");
}

}  // namespace

Informer::Informer(kube::Client& client, kube::Resource resource, InformerOptions options)
    : client_(client), resource_(std::move(resource)), options_(std::move(options)) {}

Informer::~Informer() { stop(); }

void Informer::add_handler(EventHandler handler) {
  if (thread_.joinable()) throw std::logic_error("informer handlers must be added before start()");
  handlers_.push_back(std::move(handler));
}

void Informer::start() {
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] { run(); });
  if (options_.resync.count() > 0) resync_thread_ = std::thread([this] { resync_loop(); });
}

void Informer::request_stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    if (active_watch_) active_watch_->cancel();
  }
  cv_.notify_all();
}

void Informer::stop() {
  request_stop();
  if (thread_.joinable()) thread_.join();
  if (resync_thread_.joinable()) resync_thread_.join();
}

bool Informer::wait_for_sync(std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mutex_);
  cv_.wait_for(lock, timeout, [this] { return synced_.load() || stopping_.load(); });
  return synced_.load();
}

InformerStats Informer::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

void Informer::dispatch(const std::function<void(const EventHandler&)>& call) {
  std::lock_guard lock(dispatch_mutex_);
  for (const auto& handler : handlers_) {
    try {
      call(handler);
    } catch (const std::exception& e) {
      spdlog::error("informer {}: an event handler failed: {}", resource_.plural, e.what());
    }
  }
}

ObjectPtr Informer::prepare(nlohmann::json object) const {
  if (auto meta = object.find("metadata"); meta != object.end() && meta->is_object() && !options_.keep_managed_fields) {
    meta->erase("managedFields");
  }
  // Items of a list carry no apiVersion/kind (watch events do): make every
  // cached object say what it is, as event recorders and appliers expect.
  if (!options_.metadata_only && object.is_object()) {
    if (!object.contains("apiVersion")) object["apiVersion"] = resource_.api_version();
    if (!object.contains("kind")) object["kind"] = resource_.kind;
  }
  if (options_.transform) options_.transform(object);
  return std::make_shared<const nlohmann::json>(std::move(object));
}

void Informer::set_resource_version(const std::string& rv) {
  if (rv.empty()) return;
  std::lock_guard lock(mutex_);
  stats_.resource_version = rv;
}

void Informer::record_error(const std::string& what) {
  {
    std::lock_guard lock(mutex_);
    ++stats_.errors;
    stats_.last_error = what;
  }
  spdlog::warn("informer {}: {}", resource_.plural, what);
}

bool Informer::sleep_for(std::chrono::milliseconds delay) {
  std::unique_lock lock(mutex_);
  return !cv_.wait_for(lock, delay, [this] { return stopping_.load(); });
}

void Informer::run() {
  // A watch that ends this soon having delivered nothing is retried with backoff:
  // a server (or proxy) that ends every watch at once must not be hammered.
  constexpr auto kShortWatch = std::chrono::seconds(1);
  Backoff backoff(options_.initial_backoff, options_.max_backoff);
  // An informer started again after stop() resumes watching from the last
  // resourceVersion it saw, as after a dropped connection.
  bool need_list = !synced_;
  while (!stopping_) {
    try {
      if (need_list) {
        if (!list_and_sync()) break;
        need_list = false;
        backoff.reset();
      }
      const auto opened = std::chrono::steady_clock::now();
      WatchOutcome outcome = watch_once();
      need_list = outcome.relist;
      if (outcome.events > 0 || std::chrono::steady_clock::now() - opened >= kShortWatch) {
        backoff.reset();
        continue;
      }
      if (stopping_) break;
      spdlog::debug("informer {}: the watch ended at once without events; {} after a backoff", resource_.plural,
                    need_list ? "listing again" : "watching again");
    } catch (const kube::ApiError& e) {
      if (e.is_gone() && !need_list) {
        need_list = true;
        continue;
      }
      record_error(std::string(need_list ? "list" : "watch") + " failed: " + e.what());
    } catch (const std::exception& e) {
      record_error(std::string(need_list ? "list" : "watch") + " failed: " + e.what());
    }
    if (!sleep_for(backoff.next())) break;
  }
}

bool Informer::list_and_sync() {
  kube::ListOptions list_options;
  list_options.label_selector = options_.label_selector;
  list_options.field_selector = options_.field_selector;
  list_options.limit = options_.page_size;
  // Page by page: each page is transformed before the next is fetched, so the
  // memory a relist needs is one page of whole objects, not all of them.
  std::unordered_map<std::string, ObjectPtr> fresh;
  std::string rv;
  while (true) {
    kube::ListPage page;
    try {
      page = client_.list_page(resource_, options_.ns, list_options, options_.fields, options_.metadata_only);
    } catch (const kube::ApiError& e) {
      // The continue token expired (410) while paging, as it does when listing takes
      // longer than the server keeps old versions: listing again page by page would
      // likely expire again, so get everything in one unpaged list instead.
      if (!e.is_gone() || list_options.continue_token.empty()) throw;
      spdlog::info("informer {}: {}; listing everything at once", resource_.plural, e.message());
      fresh.clear();
      list_options.limit.reset();
      list_options.continue_token.clear();
      page = client_.list_page(resource_, options_.ns, list_options, options_.fields, options_.metadata_only);
    }
    if (stopping_) return false;
    for (auto& item : page.items) {
      ObjectPtr object = prepare(std::move(item));
      fresh.emplace(object_key(*object), std::move(object));
    }
    page.items.clear();
    rv = std::move(page.resource_version);
    std::string next = std::move(page.continue_token);
    if (next.empty()) break;
    list_options.continue_token = std::move(next);
  }
  auto previous = store_.replace(fresh);
  // Deliver the difference between what handlers knew and what the server has now.
  for (const auto& [key, object] : fresh) {
    auto old = previous.find(key);
    if (old == previous.end()) {
      dispatch([&](const EventHandler& h) { if (h.on_add) h.on_add(object); });
    } else if (resource_version_of(*old->second) != resource_version_of(*object)) {
      dispatch([&](const EventHandler& h) { if (h.on_update) h.on_update(old->second, object); });
    }
  }
  for (const auto& [key, object] : previous) {
    if (!fresh.count(key)) {
      dispatch([&](const EventHandler& h) { if (h.on_delete) h.on_delete(object); });
    }
  }
  bool first_sync;
  {
    std::lock_guard lock(mutex_);
    ++stats_.lists;
    stats_.resource_version = rv;
    first_sync = !synced_.exchange(true);  // under the lock: no waiter misses it
  }
  if (first_sync) {
    spdlog::debug("informer {}: synced {} objects at resourceVersion {}", resource_.plural, fresh.size(), rv);
  }
  cv_.notify_all();
  return true;
}

Informer::WatchOutcome Informer::watch_once() {
  static thread_local std::mt19937 rng(std::random_device{}());
  std::uniform_int_distribution<long> spread(options_.min_watch_timeout.count(),
                                             std::max(options_.min_watch_timeout, options_.max_watch_timeout).count());
  kube::ListOptions watch_options;
  watch_options.label_selector = options_.label_selector;
  watch_options.field_selector = options_.field_selector;
  watch_options.allow_watch_bookmarks = true;
  watch_options.timeout_seconds = spread(rng);
  watch_options.resource_version = stats().resource_version;

  auto watch = client_.watch(resource_, options_.ns, watch_options, options_.metadata_only, options_.fields);
  {
    std::lock_guard lock(mutex_);
    ++stats_.watches;
    if (stopping_) return {};
    active_watch_ = watch.get();
  }
  struct Clear {
    Informer* self;
    ~Clear() {
      std::lock_guard lock(self->mutex_);
      self->active_watch_ = nullptr;
    }
  } clear{this};

  WatchOutcome outcome;
  while (auto event = watch->next()) {
    if (event->type == kube::WatchEventType::Error) {
      kube::ApiError error = kube::error_from_status(event->object);
      if (error.is_gone()) {
        spdlog::info("informer {}: {}; listing again", resource_.plural, error.message());
        outcome.relist = true;
        return outcome;
      }
      throw error;
    }
    handle_watch_event(*event);
    ++outcome.events;
  }
  return outcome;
}

void Informer::handle_watch_event(kube::WatchEvent& event) {
  const std::string rv = resource_version_of(event.object);
  if (event.type == kube::WatchEventType::Bookmark) {
    set_resource_version(rv);
    return;
  }
  ObjectPtr object = prepare(std::move(event.object));
  const std::string key = object_key(*object);
  switch (event.type) {
    case kube::WatchEventType::Added:
    case kube::WatchEventType::Modified: {
      ObjectPtr old = store_.upsert(key, object);
      if (old) {
        dispatch([&](const EventHandler& h) { if (h.on_update) h.on_update(old, object); });
      } else {
        dispatch([&](const EventHandler& h) { if (h.on_add) h.on_add(object); });
      }
      break;
    }
    case kube::WatchEventType::Deleted: {
      store_.erase(key);
      dispatch([&](const EventHandler& h) { if (h.on_delete) h.on_delete(object); });
      break;
    }
    default:
      break;
  }
  set_resource_version(rv);
}

void Informer::resync_loop() {
  while (sleep_for(options_.resync)) {
    if (!synced_) continue;
    for (const auto& object : store_.list()) {
      if (stopping_) return;
      dispatch([&](const EventHandler& h) { if (h.on_update) h.on_update(object, object); });
    }
  }
}

}  // namespace cpo::runtime
