#include "clusterpolicy/node_label_controller.hpp"

#include <spdlog/spdlog.h>

#include "clusterpolicy/node_cache.hpp"
#include "clusterpolicy/node_labels.hpp"
#include "kube/errors.hpp"

namespace cpo::clusterpolicy {

NodeLabelController::NodeLabelController(kube::Client& client, runtime::Manager& manager, NodeLabelOptions options)
    : client_(client), options_(std::move(options)) {
  if (options_.workers < 1) throw std::invalid_argument("the node label controller needs at least one worker");
  auto& controller = manager.add_controller(
      "node-labels", [this](const std::string& node) { return reconcile(node); }, options_.workers);
  auto* queue = &controller.queue();
  nodes_ = &watch_nodes(manager);
  policies_ = &manager.add_informer(kube::resources::clusterpolicies);

  auto name_of = [](const runtime::ObjectPtr& node) { return (*node)["metadata"].value("name", ""); };
  // A node is looked at when it comes and when a change of its (kept) labels
  // calls for a label write; heartbeats, status updates and label changes that
  // leave its deploy labels as they should be (a config selected, say) cost no
  // reconcile.
  nodes_->add_handler({[queue, name_of](const runtime::ObjectPtr& node) { queue->add(name_of(node)); },
                       [queue, name_of](const runtime::ObjectPtr& old_node, const runtime::ObjectPtr& new_node) {
                         if ((*old_node)["metadata"]["labels"] != (*new_node)["metadata"]["labels"] &&
                             !node_label_changes(labels_of(*new_node)).empty()) {
                           queue->add(name_of(new_node));
                         }
                       },
                       [](const runtime::ObjectPtr&) {}});
  // The first ClusterPolicy brings every node in (nodes are labelled only while one exists).
  auto* nodes = nodes_;
  policies_->add_handler({[queue, nodes](const runtime::ObjectPtr&) {
                            for (const auto& key : nodes->store().keys()) queue->add(key);
                          },
                          [](const runtime::ObjectPtr&, const runtime::ObjectPtr&) {},
                          [](const runtime::ObjectPtr&) {}});
}

runtime::ReconcileResult NodeLabelController::reconcile(const std::string& name) {
  if (policies_->store().size() == 0) return runtime::ReconcileResult::done();
  const auto node = nodes_->store().get(name);
  if (!node) return runtime::ReconcileResult::done();  // gone: nothing to label
  const auto patch = node_label_patch(labels_of(*node));
  if (!patch) return runtime::ReconcileResult::done();
  try {
    client_.patch(kube::resources::nodes, {"", name, ""}, kube::PatchType::Merge, *patch,
                  {.field_manager = options_.field_manager});
    spdlog::info("node {}: labels {}", name, (*patch)["metadata"]["labels"].dump());
  } catch (const kube::ApiError& e) {
    if (e.is_not_found()) return runtime::ReconcileResult::done();
    return runtime::ReconcileResult::failed("labels of node " + name + ": " + e.message());
  }
  return runtime::ReconcileResult::done();
}

}  // namespace cpo::clusterpolicy
