// Content hashes: sha256 of a text, as hex.
//
// Contract: 64 lower-case hex digits, the same as `sha256sum` prints.
#pragma once

#include <string>
#include <string_view>

namespace cpo::apimachinery {

std::string sha256_hex(std::string_view text);

}  // namespace cpo::apimachinery
