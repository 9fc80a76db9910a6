#include "common/line_framer.h"

#include <cstring>

namespace reactord::common {

LineFramer::Scan LineFramer::feed(const char* data, size_t size, size_t max_message_bytes) {
  Scan scan;
  const char* cursor = data;
  const char* const end = data + size;
  while (cursor < end) {
    const auto* newline = static_cast<const char*>(std::memchr(cursor, '\n', end - cursor));
    const char* const stop = newline != nullptr ? newline : end;
    const size_t length = partialBytes() + static_cast<size_t>(stop - cursor);
    if (length > max_message_bytes) {
      // Still within the limit when its last byte is the '\r' of a "\r\n": in this chunk, or the
      // last one kept from before it. Checked only here, off the path of messages that fit.
      const bool cr = stop > cursor ? stop[-1] == '\r' : (partial_ & kEndsWithCr) != 0;
      if (length - (cr ? 1 : 0) > max_message_bytes) {
        scan.too_long = true;
        return scan;
      }
    }
    if (newline == nullptr) {
      partial_ = static_cast<uint32_t>(length) | (stop[-1] == '\r' ? kEndsWithCr : 0);
      return scan;
    }
    ++scan.complete;
    partial_ = 0;
    cursor = newline + 1;
  }
  return scan;
}

}  // namespace reactord::common
