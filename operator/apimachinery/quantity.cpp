#include "apimachinery/quantity.hpp"

#include <cctype>

namespace cpo::apimachinery {

std::optional<double> quantity_value(const std::string& text) {
  static const std::pair<const char*, double> kSuffixes[] = {
      {"Ki", 1024.0}, {"Mi", 1048576.0}, {"Gi", 1073741824.0}, {"Ti", 1099511627776.0},
      {"Pi", 1125899906842624.0}, {"Ei", 1152921504606846976.0}, {"n", 1e-9}, {"u", 1e-6}, {"m", 1e-3},
      {"k", 1e3}, {"M", 1e6}, {"G", 1e9}, {"T", 1e12}, {"P", 1e15}, {"E", 1e18}};
  if (text.empty()) return std::nullopt;
  std::size_t digits = 0;
  while (digits < text.size() &&
         (std::isdigit(static_cast<unsigned char>(text[digits])) || text[digits] == '.' ||
          (digits == 0 && (text[0] == '+' || text[0] == '-')))) {
    ++digits;
  }
  if (digits == 0) return std::nullopt;
  std::string number = text.substr(0, digits);
  std::string suffix = text.substr(digits);
  double multiplier = 1.0;
  if (!suffix.empty()) {
    bool known = false;
    for (const auto& [s, m] : kSuffixes) {
      if (suffix == s) {
        multiplier = m;
        known = true;
        break;
      }
    }
    if (!known) return std::nullopt;
  }
  try {
    std::size_t used = 0;
    double value = std::stod(number, &used);
    if (used != number.size()) return std::nullopt;
    return value * multiplier;
  } catch (...) {
    return std::nullopt;
  }
}

}  // namespace cpo::apimachinery
