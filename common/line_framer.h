#pragma once

#include <cstddef>
#include <cstdint>

namespace reactord::common {

// Splits a byte stream into '\n'-terminated messages without storing them: the acknowledgement
// protocol only needs to know how many messages completed and whether the current one grew too
// long. Holds four bytes of state, so it can live in every connection. Not thread-safe: owned by
// one connection.
class LineFramer {
 public:
  struct Scan {
    size_t complete = 0;    // messages whose '\n' was in this chunk
    bool too_long = false;  // the message after them exceeds the limit; stop reading the stream
  };

  // Consumes `size` bytes. A message is too long when its bytes before '\n' exceed
  // `max_message_bytes`; scanning stops there, and the messages completed before it still count.
  Scan feed(const char* data, size_t size, size_t max_message_bytes);
  // Bytes of the message not terminated yet; at EOF a non-zero value is one last message.
  size_t partialBytes() const { return partial_; }

 private:
  uint32_t partial_ = 0;
};

}  // namespace reactord::common
