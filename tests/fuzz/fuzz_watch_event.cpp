// Fuzz target: the watch-stream framer. The first byte picks the size of the pieces
// the rest is fed in (as reads of a chunked body end anywhere), the second a small
// event size limit.
// Contract checked: feed() returns whole events or throws std::runtime_error, and
// never holds more than the limit.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string_view>

#include "kube/watch_event.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::size_t piece = std::size_t{data[0]} + 1;
  const std::size_t limit = std::size_t{data[1]} * 16 + 16;
  const std::string_view body(reinterpret_cast<const char*>(data + 2), size - 2);
  cpo::kube::WatchFramer framer(limit);
  try {
    for (std::size_t at = 0; at < body.size(); at += piece) {
      (void)framer.feed(body.substr(at, std::min(piece, body.size() - at)));
      if (framer.pending_bytes() > limit) std::abort();
    }
  } catch (const std::runtime_error&) {
  }
  return 0;
}
