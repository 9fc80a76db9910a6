#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace reactord::client {

// A periodic byte stream that a connection sends or expects, stored twice over so that any slice
// of up to period() bytes is contiguous: the bytes at stream offset `o` start at at(o). Built once
// before the run, then read-only and shared by every worker thread.
class Payload {
 public:
  // The smallest period; larger than any single read or write of reactor-bench.
  static constexpr size_t kMinPeriod = 1 << 20;

  // echo: pseudo-random bytes from a fixed seed; the period is odd, so message boundaries wander
  // across it and a byte echoed at the wrong offset fails the comparison.
  static Payload echoStream();
  // ack requests: lines of `message_bytes` (the last one '\n', the others printable, never '\n').
  static Payload ackRequests(size_t message_bytes);
  // ack replies: "Message received\n" over and over.
  static Payload ackReplies();

  const char* at(uint64_t offset) const { return data_.data() + offset % period_; }
  size_t period() const { return period_; }

 private:
  explicit Payload(const std::string& one_period);

  std::string data_;
  size_t period_;
};

}  // namespace reactord::client
