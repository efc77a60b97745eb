// simdjson's parse turned into nlohmann::json, keeping only what a FieldMask keeps:
// the kube layer's fast path for large answers (lists, watch events). Internal to
// the kube layer (it includes simdjson).
#pragma once

#include <simdjson.h>

#include <nlohmann/json.hpp>

#include "kube/field_mask.hpp"

namespace cpo::kube::detail {

// Numbers come out as nlohmann::json reads them (unsigned when not negative), and
// a key given twice keeps its last value, so both parsers give equal documents.
nlohmann::json to_json(simdjson::dom::element element, const FieldMask& mask);

}  // namespace cpo::kube::detail
