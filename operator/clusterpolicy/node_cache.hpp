// The Node cache both controllers read: of each Node only its name, the labels
// the operator reads (kNodeLabelsRead in vocabulary.hpp) and the nvidia.com/*
// entries of status.capacity (what the device plugin advertises), so it costs
// bytes per node whatever the size of the Node objects; lists and watch events
// are decoded no further than that (a FieldMask). Registered through the
// manager, it is one watch and one cache however many controllers use it.
#pragma once

#include <nlohmann/json.hpp>

#include "runtime/manager.hpp"

namespace cpo::clusterpolicy {

runtime::Informer& watch_nodes(runtime::Manager& manager);
// Its informer options (the benchmark measures them).
runtime::InformerOptions node_cache_options();

// Whether the cached capacity of a Node changed between two versions of it.
bool capacity_changed(const nlohmann::json& before, const nlohmann::json& after);

}  // namespace cpo::clusterpolicy
