#pragma once

#include <cstddef>
#include <cstdint>

namespace reactord::common {

// Splits a byte stream into '\n'-terminated messages without storing them: the acknowledgement
// protocol only needs to know how many messages completed and whether the current one grew too
// long. A "\r\n" ends a message too (telnet and many line-mode clients send it): the '\r' right
// before a '\n' is not part of the message, so it does not count toward the limit. Holds four bytes
// of state, so it can live in every connection. Not thread-safe: owned by one connection.
class LineFramer {
 public:
  struct Scan {
    size_t complete = 0;    // messages whose '\n' was in this chunk
    bool too_long = false;  // the message after them exceeds the limit; stop reading the stream
  };

  // Consumes `size` bytes. A message is too long when its bytes before '\n' (or before "\r\n")
  // exceed `max_message_bytes`, at most 2^30; scanning stops there, and the messages completed
  // before it still count. An unfinished message is too long as soon as it is certain: a last
  // '\r' may still be the start of its "\r\n".
  Scan feed(const char* data, size_t size, size_t max_message_bytes);
  // Bytes of the message not terminated yet, a last '\r' included; at EOF a non-zero value is one
  // last message.
  size_t partialBytes() const { return partial_ & ~kEndsWithCr; }

 private:
  // partial_'s top bit: the unfinished message's last byte is '\r' (its length is below 2^31).
  static constexpr uint32_t kEndsWithCr = uint32_t{1} << 31;

  uint32_t partial_ = 0;
};

}  // namespace reactord::common
