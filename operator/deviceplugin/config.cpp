// Validation of one device-plugin config document and of the whole ConfigMap.
#include "deviceplugin/config.hpp"

#include "deviceplugin/detail.hpp"

#include <algorithm>
#include <set>

namespace cpo::deviceplugin {
namespace detail {

void Reporter::error(std::string path, std::string message, const YAML::Mark& mark) {
  add(Severity::Error, std::move(path), std::move(message), mark.line + 1, mark.column + 1);
}

void Reporter::warning(std::string path, std::string message, const YAML::Mark& mark) {
  add(Severity::Warning, std::move(path), std::move(message), mark.line + 1, mark.column + 1);
}

void Reporter::add(Severity severity, std::string path, std::string message, int line, int column) {
  if (line <= 0) {  // yaml-cpp's null mark, or no position
    line = 0;
    column = 0;
  }
  problems_.push_back(
      Problem{key_, std::move(path), std::move(message), severity, line, std::max(column, 0)});
}

std::vector<Problem> Reporter::take() {
  std::stable_sort(problems_.begin(), problems_.end(), [](const Problem& a, const Problem& b) {
    return std::pair(a.line, a.column) < std::pair(b.line, b.column);
  });
  if (problems_.size() > kMaxProblemsPerDocument) {
    const auto kept = problems_.begin() + static_cast<std::ptrdiff_t>(kMaxProblemsPerDocument - 1);
    const bool errors_left_out = std::any_of(
        kept, problems_.end(), [](const Problem& p) { return p.severity == Severity::Error; });
    const std::size_t left_out = static_cast<std::size_t>(problems_.end() - kept);
    problems_.erase(kept, problems_.end());
    problems_.push_back(Problem{key_, "", std::to_string(left_out) + " more problems not listed",
                                errors_left_out ? Severity::Error : Severity::Warning, 0, 0});
  }
  return std::move(problems_);
}

}  // namespace detail

namespace {

bool has_error(const std::vector<Problem>& problems) {
  return std::any_of(problems.begin(), problems.end(),
                     [](const Problem& p) { return p.severity == Severity::Error; });
}

std::string configmap_label(std::string_view name) {
  return name.empty() ? "the ConfigMap" : "ConfigMap " + detail::quote(name);
}

std::string key_list(const std::map<std::string, std::string>& data) {
  std::string out;
  std::size_t shown = 0;
  for (const auto& [key, value] : data) {
    if (shown++ == 10) return out + ", ...";
    out += (out.empty() ? "" : ", ") + key;
  }
  return out;
}

bool below_compute_75(const NodeSelection& node) {
  if (!node.compute_major) return false;
  if (*node.compute_major != 7) return *node.compute_major < 7;
  return node.compute_minor && *node.compute_minor < 5;
}

std::string compute_capability(const NodeSelection& node) {
  std::string out = std::to_string(*node.compute_major);
  if (node.compute_minor) out += "." + std::to_string(*node.compute_minor);
  return out;
}

// The MPS limit of GPUs below compute capability 7.5, for a node using `key`.
std::optional<Problem> check_node_mps_limit(const NodeSelection& node, const std::string& key,
                                            bool via_default, const ConfigSummary& summary) {
  if (!summary.uses_mps || summary.max_mps_replicas <= kMaxMpsReplicasBelowCompute75 ||
      !below_compute_75(node)) {
    return std::nullopt;
  }
  const auto largest = std::max_element(
      summary.resources.begin(), summary.resources.end(),
      [](const SharedResource& a, const SharedResource& b) { return a.replicas < b.replicas; });
  return Problem{key,
                 largest->path + ".replicas",
                 "node " + detail::quote(node.node) + " (compute capability " +
                     compute_capability(node) + (via_default ? ", via config.default" : "") +
                     ") supports at most " + std::to_string(kMaxMpsReplicasBelowCompute75) +
                     " MPS replicas per GPU, got " + std::to_string(largest->replicas),
                 Severity::Error,
                 largest->line,
                 largest->column};
}

}  // namespace

std::string format(const Problem& problem) {
  std::string out = problem.key;
  for (const std::string* part : {&problem.path, &problem.message}) {
    if (part->empty()) continue;
    if (!out.empty()) out += ": ";
    out += *part;
  }
  if (problem.line > 0) {
    out += " (line " + std::to_string(problem.line);
    if (problem.column > 0) out += ", column " + std::to_string(problem.column);
    out += ")";
  }
  return out;
}

std::string format_with_severity(const Problem& problem) {
  return (problem.severity == Severity::Error ? "error: " : "warning: ") + format(problem);
}

std::string_view sharing_strategy_label(SharingStrategy strategy) {
  switch (strategy) {
    case SharingStrategy::Mps:
      return "mps";
    case SharingStrategy::TimeSlicing:
      return "time-slicing";
    case SharingStrategy::None:
      break;
  }
  return "none";
}

std::optional<int> replicas_of(const ConfigSummary& summary, std::string_view resource) {
  for (const SharedResource& shared : summary.resources) {
    if (shared.name == resource) return shared.replicas;
  }
  return std::nullopt;
}

bool DocumentResult::ok() const { return !has_error(problems); }
bool ConfigMapResult::ok() const { return !has_error(problems); }

DocumentResult validate_document(std::string_view key, std::string_view yaml_text,
                                 const ValidationContext& context) {
  DocumentResult result;
  detail::Reporter reporter{std::string(key)};
  if (auto finding = detail::prescan(yaml_text)) {
    reporter.add(Severity::Error, "", std::move(finding->message), finding->line, finding->column);
    result.problems = reporter.take();
    return result;
  }
  const std::optional<YAML::Node> root = detail::parse_single_document(yaml_text, reporter);
  if (root && !root->IsNull()) {
    if (!root->IsMap()) {
      reporter.error("", "a config must be a YAML mapping, got " + detail::describe(*root),
                     root->Mark());
    } else {
      detail::check_schema(*root, context, reporter);
      result.summary = detail::check_rules(*root, context, reporter);
    }
  }
  result.problems = reporter.take();
  return result;
}

ConfigMapResult validate_configmap(const std::map<std::string, std::string>& data,
                                   const std::optional<std::string>& default_key,
                                   const std::vector<NodeSelection>& nodes,
                                   const ValidationContext& context,
                                   std::string_view configmap_name) {
  ConfigMapResult result;
  auto configmap_error = [&](std::string message) {
    result.problems.push_back(Problem{"", "", std::move(message), Severity::Error, 0, 0});
  };
  if (data.empty()) {
    configmap_error(configmap_label(configmap_name) +
                    " has no data keys; it needs at least one device-plugin config");
  }
  const bool has_default = default_key && !default_key->empty();
  const bool default_exists = has_default && data.count(*default_key) > 0;
  if (has_default && !default_exists) {
    configmap_error("config.default " + detail::quote(*default_key) + " is not a key of " +
                    configmap_label(configmap_name) + " (keys: " + key_list(data) + ")");
  }

  std::vector<const NodeSelection*> sorted;
  for (const NodeSelection& node : nodes) sorted.push_back(&node);
  std::stable_sort(
      sorted.begin(), sorted.end(),
      [](const NodeSelection* a, const NodeSelection* b) { return a->node < b->node; });
  std::map<std::string, std::vector<const NodeSelection*>> users;  // key -> nodes using it
  std::set<const NodeSelection*> via_default;
  for (const NodeSelection* node : sorted) {
    if (!node->selected_key.empty()) {
      if (data.count(node->selected_key) == 0) {
        configmap_error("node " + detail::quote(node->node) + " selects " +
                        detail::quote(node->selected_key) + " with label " +
                        std::string(kConfigLabel) + ", which is not a key of " +
                        configmap_label(configmap_name) + " (keys: " + key_list(data) + ")");
      } else {
        users[node->selected_key].push_back(node);
      }
    } else if (default_exists) {
      users[*default_key].push_back(node);
      via_default.insert(node);
    }
  }

  for (const auto& [key, text] : data) {
    DocumentResult document = validate_document(key, text, context);
    result.problems.insert(result.problems.end(), document.problems.begin(),
                           document.problems.end());
    for (const NodeSelection* node : users[key]) {
      if (auto problem =
              check_node_mps_limit(*node, key, via_default.count(node) > 0, document.summary)) {
        result.problems.push_back(std::move(*problem));
      }
    }
    result.summaries.emplace(key, std::move(document.summary));
  }
  return result;
}

}  // namespace cpo::deviceplugin
