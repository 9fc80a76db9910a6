#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace reactord::client {

// The start times of one connection's messages in flight, oldest first: a ring that grows by
// doubling and never shrinks, so a steady run allocates nothing. Not thread-safe: owned by one
// connection.
class SendTimes {
 public:
  bool empty() const { return size_ == 0; }
  size_t size() const { return size_; }
  int64_t front() const { return ring_[head_]; }

  void push(int64_t nanos) {
    if (size_ == ring_.size()) {
      grow();
    }
    ring_[(head_ + size_) & (ring_.size() - 1)] = nanos;
    ++size_;
  }
  int64_t pop() {
    const int64_t nanos = ring_[head_];
    head_ = (head_ + 1) & (ring_.size() - 1);
    --size_;
    return nanos;
  }
  void clear() { head_ = size_ = 0; }

 private:
  void grow() {
    std::vector<int64_t> bigger(ring_.empty() ? 4 : ring_.size() * 2);
    for (size_t i = 0; i < size_; ++i) {
      bigger[i] = ring_[(head_ + i) & (ring_.size() - 1)];
    }
    ring_.swap(bigger);
    head_ = 0;
  }

  std::vector<int64_t> ring_;  // size is 0 or a power of two
  size_t head_ = 0;
  size_t size_ = 0;
};

}  // namespace reactord::client
