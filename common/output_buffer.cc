#include "common/output_buffer.h"

#include <algorithm>
#include <cstring>

namespace reactord::common {

void OutputBuffer::append(const char* data, size_t size) {
  if (tail_ + size > capacity_) {
    const size_t pending = tail_ - head_;
    if (pending + size <= capacity_ && head_ >= pending) {
      // Enough room once the consumed front is reclaimed, and moving is cheap (pending is at most
      // half of what was consumed).
      std::memmove(storage_.get(), storage_.get() + head_, pending);
    } else {
      const size_t capacity = std::max(pending + size, 2 * capacity_);
      std::unique_ptr<char[]> grown(new char[capacity]);
      if (pending > 0) {
        std::memcpy(grown.get(), storage_.get() + head_, pending);
      }
      storage_ = std::move(grown);
      capacity_ = capacity;
    }
    head_ = 0;
    tail_ = pending;
  }
  std::memcpy(storage_.get() + tail_, data, size);
  tail_ += size;
}

void OutputBuffer::consume(size_t size) {
  head_ += size;
  if (head_ == tail_) {
    head_ = tail_ = 0;
  }
}

}  // namespace reactord::common
