// JSON merge patches (RFC 7386) between two documents.
//
// Contract: applying merge_patch_between(from, to) to `from` gives `to`. Keys that
// vanished become null; objects are patched key by key; lists and scalars are
// replaced whole. Equal documents give an empty object. (Not for documents whose
// `to` holds a null it means to keep: a merge patch cannot say that.)
#pragma once

#include <nlohmann/json.hpp>

namespace cpo::apimachinery {

nlohmann::json merge_patch_between(const nlohmann::json& from, const nlohmann::json& to);

}  // namespace cpo::apimachinery
