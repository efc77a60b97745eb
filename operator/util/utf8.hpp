// UTF-8, as the product checks and cuts text: one definition for every reader.
#pragma once

#include <cstddef>
#include <string_view>

namespace cpo::util {

// Length of the well-formed UTF-8 sequence at the start of `s` (RFC 3629: no
// overlong forms, no surrogates), 0 when malformed or empty.
std::size_t utf8_sequence_length(std::string_view s);

}  // namespace cpo::util
