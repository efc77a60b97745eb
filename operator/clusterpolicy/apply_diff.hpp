// Deciding whether an object must be applied: a server-side apply only writes
// what we declare, so the live object is "as desired" when every field we
// declare is present in it with the same value. Fields others own or the API
// server defaulted are ignored; a field someone changed by hand is a difference
// (drift to repair).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace cpo::clusterpolicy {

// True when `live` holds every field of `desired` with an equal value. Objects
// are compared key by key (extra keys in `live` are fine); lists must have the
// same length and each element must be contained in the live element at the
// same position; scalars must be equal (numbers by value, so 2 equals 2.0, and
// under resources.limits/requests quantities by value, so "1000m" equals "1").
bool contains(const nlohmann::json& live, const nlohmann::json& desired);

// The first path where `live` does not contain `desired` ("" when it does),
// for logs and events: "spec.template.spec.containers[0].image".
std::string first_difference(const nlohmann::json& live, const nlohmann::json& desired);

// One step of the way to that difference: a field `key`, or a list element
// (`item` in `live`, at `index`; null when the element is missing from `live`).
struct PathStep {
  std::string key;
  const nlohmann::json* item = nullptr;
  std::size_t index = 0;
};

// The steps from the root to the first difference (empty when `live` contains `desired`).
// The pointers are into `live`.
std::vector<PathStep> difference_path(const nlohmann::json& live, const nlohmann::json& desired);

}  // namespace cpo::clusterpolicy

