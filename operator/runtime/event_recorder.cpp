#include "runtime/event_recorder.hpp"

#include <unistd.h>

#include <algorithm>
#include <ctime>
#include <random>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "apimachinery/nested.hpp"

namespace cpo::runtime {

using nlohmann::json;

namespace {

constexpr std::size_t kMaxMessageBytes = 1024;

// Cuts at a UTF-8 character boundary so the result stays valid JSON text.
std::string truncate_message(const std::string& message) {
  if (message.size() <= kMaxMessageBytes) return message;
  std::size_t cut = kMaxMessageBytes - 3;
  while (cut > 0 && (static_cast<unsigned char>(message[cut]) & 0xC0) == 0x80) --cut;
  return message.substr(0, cut) + "...";
}

std::string host_name() {
  char buffer[256] = {};
  if (gethostname(buffer, sizeof buffer - 1) != 0) return "unknown";
  return buffer;
}

}  // namespace

std::string_view to_string(EventType type) { return type == EventType::Warning ? "Warning" : "Normal"; }

void KubeEventSink::create(const std::string&, const json& event) {
  client_.create(kube::resources::events, event);
}

void KubeEventSink::patch(const std::string& ns, const std::string& name, const json& patch) {
  client_.patch(kube::resources::events, {ns, name, ""}, kube::PatchType::Merge, patch);
}

EventRecorder::EventRecorder(EventSink& sink, std::string component, const Clock& clock,
                             EventRecorderOptions options)
    : sink_(sink), component_(std::move(component)), clock_(clock), options_(std::move(options)) {
  if (options_.instance.empty()) options_.instance = host_name();
  worker_ = std::thread([this] { run(); });
}

EventRecorder::~EventRecorder() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  work_cv_.notify_all();
  worker_.join();
}

bool EventRecorder::admit_locked(const std::string& object_key, Clock::steady_time now) {
  if (buckets_.size() >= options_.max_tracked_objects && !buckets_.count(object_key)) {
    // Objects that have been quiet long enough to be back at a full burst are forgotten.
    auto full_after = options_.refill * options_.burst;
    std::erase_if(buckets_, [&](const auto& entry) { return now - entry.second.refilled_at >= full_after; });
    if (buckets_.size() >= options_.max_tracked_objects) buckets_.clear();
  }
  auto [it, inserted] = buckets_.try_emplace(object_key, Bucket{static_cast<double>(options_.burst), now});
  Bucket& bucket = it->second;
  if (!inserted && now > bucket.refilled_at) {
    std::chrono::duration<double> elapsed = now - bucket.refilled_at;
    bucket.tokens = std::min<double>(options_.burst, bucket.tokens + elapsed / options_.refill);
    bucket.refilled_at = now;
  }
  if (bucket.tokens < 1) return false;
  bucket.tokens -= 1;
  return true;
}

void EventRecorder::record(const json& involved_object, EventType type, const std::string& reason,
                           const std::string& message) {
  using apimachinery::nested_string;
  const std::string api_version = nested_string(involved_object, {"apiVersion"});
  const std::string kind = nested_string(involved_object, {"kind"});
  const std::string name = nested_string(involved_object, {"metadata", "name"});
  const std::string object_ns = nested_string(involved_object, {"metadata", "namespace"});
  const std::string uid = nested_string(involved_object, {"metadata", "uid"});
  const std::string resource_version = nested_string(involved_object, {"metadata", "resourceVersion"});
  Pending event;
  event.involved = {{"kind", kind}, {"name", name}};
  if (!api_version.empty()) event.involved["apiVersion"] = api_version;
  if (!object_ns.empty()) event.involved["namespace"] = object_ns;
  if (!uid.empty()) event.involved["uid"] = uid;
  if (!resource_version.empty()) event.involved["resourceVersion"] = resource_version;
  event.ns = object_ns.empty() ? "default" : object_ns;
  event.type = to_string(type);
  event.reason = reason;
  event.message = truncate_message(message);
  event.at = clock_.now();
  event.wall_at = clock_.wall_now();
  event.object_key = fmt::format("{}\x1f{}\x1f{}\x1f{}", uid, kind, object_ns, name);
  {
    std::lock_guard lock(mutex_);
    if (stopping_ || queue_.size() >= options_.queue_capacity || !admit_locked(event.object_key, event.at)) {
      ++dropped_;
      return;
    }
    queue_.push_back(std::move(event));
  }
  work_cv_.notify_one();
}

bool EventRecorder::flush(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return idle_cv_.wait_for(lock, timeout, [&] { return queue_.empty() && !busy_; });
}

std::uint64_t EventRecorder::dropped() const {
  std::lock_guard lock(mutex_);
  return dropped_;
}

std::uint64_t EventRecorder::failed() const {
  std::lock_guard lock(mutex_);
  return failed_;
}

void EventRecorder::run() {
  std::unique_lock lock(mutex_);
  while (true) {
    work_cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (stopping_) break;
    Pending event = std::move(queue_.front());
    queue_.pop_front();
    busy_ = true;
    lock.unlock();
    bool ok = true;
    try {
      write(event);
    } catch (const std::exception& e) {
      ok = false;
      spdlog::warn("event {} about {} {}/{} not written: {}", event.reason, apimachinery::nested_string(event.involved, {"kind"}),
                   event.ns, apimachinery::nested_string(event.involved, {"name"}), e.what());
    }
    lock.lock();
    if (!ok) ++failed_;
    busy_ = false;
    if (queue_.empty()) idle_cv_.notify_all();
  }
  busy_ = false;
  idle_cv_.notify_all();
}

void EventRecorder::write(const Pending& event) {
  std::string key =
      fmt::format("{}\x1f{}\x1f{}\x1f{}", event.object_key, event.type, event.reason, event.message);
  auto it = written_.find(key);
  if (it != written_.end() && event.at - it->second.last_at < options_.aggregation_window) {
    Written& seen = it->second;
    try {
      sink_.patch(seen.ns, seen.name, {{"count", seen.count + 1}, {"lastTimestamp", apimachinery::rfc3339(event.wall_at)}});
      ++seen.count;
      seen.last_at = event.at;
      return;
    } catch (const kube::ApiError& e) {
      if (!e.is_not_found()) throw;
      written_.erase(it);  // expired or deleted: start a new Event
    }
  }
  create_event(event, key);
}

void EventRecorder::create_event(const Pending& event, const std::string& key) {
  static thread_local std::mt19937_64 random{std::random_device{}()};
  // The name is the object's name plus a unique suffix, within the 253-byte limit.
  std::string name = apimachinery::nested_string(event.involved, {"name"}).substr(0, 253 - 17);
  name += fmt::format(".{:016x}", random());
  std::string stamp = apimachinery::rfc3339(event.wall_at);
  json object = {{"apiVersion", "v1"},
                 {"kind", "Event"},
                 {"metadata", {{"name", name}, {"namespace", event.ns}}},
                 {"involvedObject", event.involved},
                 {"reason", event.reason},
                 {"message", event.message},
                 {"type", event.type},
                 {"count", 1},
                 {"firstTimestamp", stamp},
                 {"lastTimestamp", stamp},
                 {"source", {{"component", component_}, {"host", options_.instance}}},
                 {"reportingComponent", component_},
                 {"reportingInstance", options_.instance}};
  sink_.create(event.ns, object);
  if (written_.size() >= options_.max_tracked_objects) {
    std::erase_if(written_, [&](const auto& entry) {
      return event.at - entry.second.last_at >= options_.aggregation_window;
    });
    if (written_.size() >= options_.max_tracked_objects) written_.clear();
  }
  written_[key] = Written{event.ns, name, 1, event.at};
}

}  // namespace cpo::runtime
