// libFuzzer target for the ack protocol's framing: LineFramer fed the same stream in random
// chunks must agree with a byte-at-a-time reference on the messages completed, on "too long" (a
// '\r' right before '\n' not counting), and on the bytes of the unfinished message.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "common/line_framer.h"

namespace {

struct Reference {
  size_t complete = 0;
  bool too_long = false;
  size_t partial = 0;
};

// A message's length is its bytes before '\n', less one '\r' right before the '\n'; it is too long
// once the bytes seen exceed the limit, not counting a last '\r' that may still start "\r\n".
Reference reference(const uint8_t* data, size_t size, size_t max) {
  Reference r;
  for (size_t i = 0; i < size && !r.too_long; ++i) {
    if (data[i] == '\n') {
      ++r.complete;
      r.partial = 0;
    } else if (++r.partial - (data[i] == '\r' ? 1 : 0) > max) {
      r.too_long = true;
    }
  }
  return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) {
    return 0;
  }
  const size_t max = 1 + data[0] % 64;
  uint32_t seed = data[1];
  data += 2;
  size -= 2;

  reactord::common::LineFramer framer;
  size_t complete = 0;
  bool too_long = false;
  for (size_t offset = 0; offset < size && !too_long;) {
    seed = seed * 1103515245u + 12345u;
    const size_t chunk = std::min<size_t>(size - offset, 1 + (seed >> 16) % 97);
    const auto scan = framer.feed(reinterpret_cast<const char*>(data) + offset, chunk, max);
    complete += scan.complete;
    too_long = scan.too_long;
    offset += chunk;
  }
  const Reference expected = reference(data, size, max);
  if (complete != expected.complete || too_long != expected.too_long ||
      (!too_long && framer.partialBytes() != expected.partial)) {
    std::abort();
  }
  return 0;
}
