// One page of a list, decoded keeping only the fields of each item a caller reads.
//
// Listing thousands of large objects is mostly decoding: a Node is ~13 KB of JSON
// (images, conditions, node info, managedFields) of which the operator reads its name, a few
// labels and its capacity. The page is parsed with simdjson (an order of magnitude
// faster than building the whole document) and only the fields of the mask are
// turned into nlohmann::json. A body simdjson refuses but nlohmann::json accepts
// (an integer beyond 64 bits, say) is decoded whole and then pruned: the result
// does not depend on which parser read it.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "kube/field_mask.hpp"

namespace cpo::kube {

struct ListPage {
  std::string resource_version;  // metadata.resourceVersion
  std::string continue_token;    // metadata.continue (empty on the last page)
  std::vector<nlohmann::json> items;
};

// Decodes a list body (a *List object). Throws std::invalid_argument when the body
// is not JSON or not a list.
ListPage decode_list_page(const std::string& body, const FieldMask& item_fields);

}  // namespace cpo::kube
