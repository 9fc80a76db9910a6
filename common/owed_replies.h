#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace reactord::common {

// One reply text and a batch of it repeated, in static storage: shared by every OwedReplies of a
// protocol, so that each connection holds a pointer to it, not a copy.
struct RepeatedReply {
  std::string_view reply;  // "Message received\n"
  const char* batch;       // `reply` repeated `batch_replies` times
  size_t batch_replies;
};

// The output a connection owes its peer when every reply is the same text (the ack protocol's
// "Message received\n"): a count of replies, the bytes of the first one already sent, and at most
// one last line after them (an error, then the connection closes). It holds no copy of the
// replies, so a client that sends without reading costs a counter, never a buffer; owed bytes can
// still exceed a limit, for backpressure. Not thread-safe: owned by one connection.
class OwedReplies {
 public:
  // `count` more of `reply`'s text, which stays the same for the life of this object; up to
  // 2^32 - 1 owed at once (--max_pending_bytes bounds them far below that).
  void add(const RepeatedReply& reply, uint32_t count) {
    reply_ = &reply;
    count_ += count;
  }
  // A line to send after every reply owed now (and instead of any added later); `line` must
  // outlive this object (a string literal).
  void setLast(std::string_view line) { last_ = line; }
  bool empty() const { return count_ == 0 && last_.empty(); }
  uint64_t bytes() const {
    const uint64_t replies = count_ == 0 ? 0 : uint64_t{count_} * reply_->reply.size() - offset_;
    return replies + last_.size();
  }
  uint32_t count() const { return count_; }
  // The next bytes to write, contiguous: part of the batch, or of the last line. Empty when
  // nothing is owed.
  std::string_view next() const;
  // The first `size` bytes of what is owed were written (size <= bytes()).
  void consume(size_t size);

 private:
  const RepeatedReply* reply_ = nullptr;  // set by the first add()
  uint32_t count_ = 0;                    // replies not wholly written
  uint32_t offset_ = 0;                   // bytes of the first of them already written
  std::string_view last_;
};

}  // namespace reactord::common
