// The node label controller: keeps the deploy labels of node_labels.hpp on every
// Node while a ClusterPolicy exists (they decide where the DaemonSets run).
//
// Keyed per Node: a Node's label change reconciles that Node alone, and up to
// `workers` label PATCHes are in flight at once (etcd commits concurrent writes in
// one batch), so a fleet of thousands is labelled at the API server's pace. The
// ClusterPolicy reconcile does not wait for it: the DaemonSets are applied at
// once and their pods follow the labels as they land.
#pragma once

#include <string>

#include "kube/client.hpp"
#include "runtime/manager.hpp"

namespace cpo::clusterpolicy {

struct NodeLabelOptions {
  int workers = 16;  // label PATCHes in flight at most
  std::string field_manager = "clusterpolicy-operator";
};

class NodeLabelController {
 public:
  // Registers the controller with `manager`; its Node and ClusterPolicy caches
  // are the ones the ClusterPolicy controller shares.
  NodeLabelController(kube::Client& client, runtime::Manager& manager, NodeLabelOptions options = {});

  runtime::ReconcileResult reconcile(const std::string& node);

 private:
  kube::Client& client_;
  NodeLabelOptions options_;
  runtime::Informer* nodes_ = nullptr;
  runtime::Informer* policies_ = nullptr;
};

}  // namespace cpo::clusterpolicy
