// The Node cache both controllers read: metadata only, and of the labels only
// those the operator reads, so it costs bytes per node whatever the size of the
// Node objects. Registered through the manager, it is one watch and one cache
// however many controllers use it.
#pragma once

#include "runtime/manager.hpp"

namespace cpo::clusterpolicy {

runtime::Informer& watch_nodes(runtime::Manager& manager);

}  // namespace cpo::clusterpolicy
