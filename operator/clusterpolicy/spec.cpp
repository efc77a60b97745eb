#include "clusterpolicy/spec.hpp"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <initializer_list>
#include <utility>

namespace cpo::clusterpolicy {

namespace {

using json = nlohmann::json;

// As a JSON string, for a message: malformed UTF-8 becomes U+FFFD, so this never throws.
std::string quoted(const std::string& text) {
  return json(text).dump(-1, ' ', false, json::error_handler_t::replace);
}

// At most `limit` bytes of `text`, cut before a UTF-8 sequence, never inside one.
std::string shortened(const std::string& text, std::size_t limit) {
  if (text.size() <= limit) return text;
  std::size_t cut = limit - 3;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  return text.substr(0, cut) + "...";
}

std::string describe(const json& value) {
  switch (value.type()) {
    case json::value_t::null: return "null";
    case json::value_t::boolean: return "boolean " + value.dump();
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
    case json::value_t::number_float: return "number " + value.dump();
    case json::value_t::string: return "string " + quoted(shortened(value.get<std::string>(), 60));
    case json::value_t::array: return "an array";
    case json::value_t::object: return "an object";
    default: return "an unsupported value";
  }
}

// "spec.daemonsets.labels" + "team" -> "spec.daemonsets.labels.team";
// + "app.kubernetes.io/name" -> "spec.daemonsets.labels[\"app.kubernetes.io/name\"]".
std::string child(const std::string& path, const std::string& key) {
  bool simple = !key.empty() && std::all_of(key.begin(), key.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '-';
  });
  return simple ? path + "." + key : path + "[" + quoted(key) + "]";
}

std::string item(const std::string& path, std::size_t index) {
  return path + "[" + std::to_string(index) + "]";
}

[[noreturn]] void fail(const std::string& path, const std::string& message) {
  throw SpecError(path, message);
}

[[noreturn]] void wrong_type(const std::string& path, const char* expected, const json& got) {
  fail(path, std::string("expected ") + expected + ", got " + describe(got));
}

// The member `key` of `object`, or nullptr when absent or null.
const json* member(const json& object, const char* key) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return nullptr;
  return &*it;
}

// A nested section: an object, or an empty object when absent or null.
const json& section(const json& object, const char* key, const std::string& path) {
  static const json kEmpty = json::object();
  const json* value = member(object, key);
  if (value == nullptr) return kEmpty;
  if (!value->is_object()) wrong_type(path, "an object", *value);
  return *value;
}

std::string string_or(const json& object, const char* key, const std::string& path,
                      std::string fallback) {
  const json* value = member(object, key);
  if (value == nullptr) return fallback;
  if (!value->is_string()) wrong_type(path, "a string", *value);
  return value->get<std::string>();
}

// Empty strings count as unset: the operator's default applies.
std::string non_empty_or(const json& object, const char* key, const std::string& path,
                         std::string fallback) {
  std::string value = string_or(object, key, path, "");
  return value.empty() ? fallback : value;
}

bool bool_or(const json& object, const char* key, const std::string& path, bool fallback) {
  const json* value = member(object, key);
  if (value == nullptr) return fallback;
  if (!value->is_boolean()) wrong_type(path, "a boolean", *value);
  return value->get<bool>();
}

std::string one_of(const json& object, const char* key, const std::string& path,
                   std::initializer_list<const char*> allowed, std::string fallback) {
  std::string value = string_or(object, key, path, "");
  if (value.empty()) return fallback;
  for (const char* candidate : allowed) {
    if (value == candidate) return value;
  }
  std::string list;
  for (const char* candidate : allowed) list += (list.empty() ? "" : ", ") + std::string(candidate);
  fail(path, "expected one of " + list + ", got " + describe(json(value)));
}

std::vector<std::string> string_list(const json& object, const char* key, const std::string& path) {
  std::vector<std::string> out;
  const json* value = member(object, key);
  if (value == nullptr) return out;
  if (!value->is_array()) wrong_type(path, "a list of strings", *value);
  for (std::size_t i = 0; i < value->size(); ++i) {
    const json& entry = (*value)[i];
    if (!entry.is_string()) wrong_type(item(path, i), "a string", entry);
    out.push_back(entry.get<std::string>());
  }
  return out;
}

std::map<std::string, std::string> string_map(const json& object, const char* key,
                                              const std::string& path) {
  std::map<std::string, std::string> out;
  const json* value = member(object, key);
  if (value == nullptr) return out;
  if (!value->is_object()) wrong_type(path, "a map of strings", *value);
  for (auto it = value->begin(); it != value->end(); ++it) {
    if (!it->is_string()) wrong_type(child(path, it.key()), "a string", *it);
    out.emplace(it.key(), it->get<std::string>());
  }
  return out;
}

std::optional<json> resources(const json& object, const std::string& path) {
  const json& given = section(object, "resources", path);
  json out = json::object();
  for (const char* part : {"limits", "requests"}) {
    const std::string part_path = child(path, part);
    const json& amounts = section(given, part, part_path);
    for (auto it = amounts.begin(); it != amounts.end(); ++it) {
      if (!it->is_string() && !it->is_number()) {
        wrong_type(child(part_path, it.key()), "a quantity (a string or a number)", *it);
      }
    }
    if (!amounts.empty()) out[part] = amounts;
  }
  if (out.empty()) return std::nullopt;
  return out;
}

std::vector<EnvVar> env_list(const json& object, const std::string& path) {
  std::vector<EnvVar> out;
  const json* value = member(object, "env");
  if (value == nullptr) return out;
  if (!value->is_array()) wrong_type(path, "a list of {name, value}", *value);
  for (std::size_t i = 0; i < value->size(); ++i) {
    const std::string entry_path = item(path, i);
    const json& entry = (*value)[i];
    if (!entry.is_object()) wrong_type(entry_path, "an object with name and value", entry);
    std::string name = string_or(entry, "name", child(entry_path, "name"), "");
    if (name.empty()) fail(child(entry_path, "name"), "required");
    out.push_back({std::move(name), string_or(entry, "value", child(entry_path, "value"), "")});
  }
  return out;
}

enum class ImageForm { Unset, FullReference, Triple, Partial };

ImageForm image_form(const ImageSpec& image) {
  if (image.repository.empty() && image.image.empty() && image.version.empty()) {
    return ImageForm::Unset;
  }
  if (image.repository.empty() && image.version.empty()) return ImageForm::FullReference;
  if (!image.repository.empty() && !image.image.empty() && !image.version.empty()) {
    return ImageForm::Triple;
  }
  return ImageForm::Partial;
}

constexpr const char* kPartialImage =
    "repository, image and version must be set together (or image alone as a full path)";

void parse_component(const json& object, const std::string& path, ComponentSpec& out) {
  out.enabled = bool_or(object, "enabled", child(path, "enabled"), true);
  out.image.repository = string_or(object, "repository", child(path, "repository"), "");
  out.image.image = string_or(object, "image", child(path, "image"), "");
  out.image.version = string_or(object, "version", child(path, "version"), "");
  out.image_pull_policy = one_of(object, "imagePullPolicy", child(path, "imagePullPolicy"),
                                 {"Always", "IfNotPresent", "Never"}, "");
  out.image_pull_secrets = string_list(object, "imagePullSecrets", child(path, "imagePullSecrets"));
  out.resources = resources(object, child(path, "resources"));
  if (member(object, "args") != nullptr) {
    std::vector<std::string> args = string_list(object, "args", child(path, "args"));
    if (!args.empty()) out.args = std::move(args);
  }
  out.env = env_list(object, child(path, "env"));
  if (out.enabled && image_form(out.image) == ImageForm::Partial) fail(path, kPartialImage);
}

std::string mps_root(const json& device_plugin, const std::string& path) {
  const std::string mps_path = child(path, "mps");
  const std::string root_path = child(mps_path, "root");
  std::string root = string_or(section(device_plugin, "mps", mps_path), "root", root_path, "");
  if (root.empty()) return kDefaultMpsRoot;
  if (root.front() != '/') fail(root_path, "expected an absolute path, got " + describe(json(root)));
  while (root.size() > 1 && root.back() == '/') root.pop_back();
  return root;
}

constexpr const char* kMaxUnavailableExpectation =
    "a positive integer or a percentage such as \"10%\"";

json max_unavailable(const json& rolling_update, const std::string& path) {
  const json* value = member(rolling_update, "maxUnavailable");
  if (value == nullptr) return 1;
  auto digits = [](const std::string& s) {
    return !s.empty() && s.size() <= 9 &&
           std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  if (value->is_number_unsigned() || value->is_number_integer()) {
    if (value->get<std::int64_t>() >= 1) return *value;
  } else if (value->is_string()) {
    const std::string text = value->get<std::string>();
    if (digits(text) && std::stoi(text) >= 1) return std::stoi(text);
    if (text.size() > 1 && text.back() == '%') {
      const std::string number = text.substr(0, text.size() - 1);
      if (digits(number) && std::stoi(number) >= 1 && std::stoi(number) <= 100) {
        return std::to_string(std::stoi(number)) + "%";
      }
    }
  }
  wrong_type(path, kMaxUnavailableExpectation, *value);
}

std::optional<json> tolerations(const json& daemonsets, const std::string& path) {
  const json* value = member(daemonsets, "tolerations");
  if (value == nullptr) return std::nullopt;
  if (!value->is_array()) wrong_type(path, "a list of tolerations", *value);
  for (std::size_t i = 0; i < value->size(); ++i) {
    if (!(*value)[i].is_object()) wrong_type(item(path, i), "an object", (*value)[i]);
  }
  if (value->empty()) return std::nullopt;
  return *value;
}

}  // namespace

SpecError::SpecError(std::string path_, std::string message_)
    : std::runtime_error(path_ + ": " + message_),
      path(std::move(path_)),
      message(std::move(message_)) {}

ClusterPolicySpec parse_spec(const json& spec_json) {
  static const json kEmpty = json::object();
  const json& spec = spec_json.is_null() ? kEmpty : spec_json;
  if (!spec.is_object()) wrong_type("spec", "an object", spec);
  ClusterPolicySpec out;

  const json& op = section(spec, "operator", "spec.operator");
  out.operator_.runtime_class =
      non_empty_or(op, "runtimeClass", "spec.operator.runtimeClass", kDefaultRuntimeClass);
  out.operator_.labels = string_map(op, "labels", "spec.operator.labels");
  out.operator_.annotations = string_map(op, "annotations", "spec.operator.annotations");

  const json& ds = section(spec, "daemonsets", "spec.daemonsets");
  out.daemonsets.labels = string_map(ds, "labels", "spec.daemonsets.labels");
  out.daemonsets.annotations = string_map(ds, "annotations", "spec.daemonsets.annotations");
  out.daemonsets.tolerations = tolerations(ds, "spec.daemonsets.tolerations");
  out.daemonsets.priority_class_name = non_empty_or(
      ds, "priorityClassName", "spec.daemonsets.priorityClassName", kDefaultPriorityClass);
  out.daemonsets.update_strategy = one_of(ds, "updateStrategy", "spec.daemonsets.updateStrategy",
                                          {"RollingUpdate", "OnDelete"}, "RollingUpdate");
  const json& rolling = section(ds, "rollingUpdate", "spec.daemonsets.rollingUpdate");
  out.daemonsets.max_unavailable =
      max_unavailable(rolling, "spec.daemonsets.rollingUpdate.maxUnavailable");

  const std::string dp_path = "spec.devicePlugin";
  const json& dp = section(spec, "devicePlugin", dp_path);
  parse_component(dp, dp_path, out.device_plugin);
  const json& config = section(dp, "config", child(dp_path, "config"));
  out.device_plugin.config_name = string_or(config, "name", dp_path + ".config.name", "");
  out.device_plugin.config_default = string_or(config, "default", dp_path + ".config.default", "");
  out.device_plugin.mps_root = mps_root(dp, dp_path);
  out.device_plugin.host_network = bool_or(dp, "hostNetwork", dp_path + ".hostNetwork", false);

  parse_component(section(spec, "gfd", "spec.gfd"), "spec.gfd", out.gfd);

  const json& mig = section(spec, "mig", "spec.mig");
  out.mig_strategy =
      one_of(mig, "strategy", "spec.mig.strategy", {"none", "single", "mixed"}, kDefaultMigStrategy);
  return out;
}

std::string resolve_image(const ImageSpec& image, const std::string& default_image,
                          const std::string& path) {
  switch (image_form(image)) {
    case ImageForm::Unset:
      if (default_image.empty()) {
        fail(path, "no image set (repository, image and version) and the operator has no default "
                   "image");
      }
      return default_image;
    case ImageForm::FullReference:
      return image.image;
    case ImageForm::Triple: {
      std::string repository = image.repository;
      while (!repository.empty() && repository.back() == '/') repository.pop_back();
      const bool digest = image.version.rfind("sha256:", 0) == 0;
      return repository + "/" + image.image + (digest ? "@" : ":") + image.version;
    }
    case ImageForm::Partial:
      break;
  }
  fail(path, kPartialImage);
}

}  // namespace cpo::clusterpolicy
