// Kubernetes resource quantities ("500m", "1Gi", "2", "0.5") as numbers.
//
// Contract: a decimal number (digits and a point) with an optional sign, then at most one suffix of the
// API's (binary Ki..Ei, decimal n u m k M G T P E); anything else is not a quantity.
// The value is a double: enough to tell whether two quantities are the same amount,
// not to do arithmetic on them.
#pragma once

#include <optional>
#include <string>

namespace cpo::apimachinery {

std::optional<double> quantity_value(const std::string& text);

}  // namespace cpo::apimachinery
