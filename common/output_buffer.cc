#include "common/output_buffer.h"

#include <algorithm>
#include <cstring>
#include <new>

namespace reactord::common {

OutputBuffer::~OutputBuffer() {
  if (charge_ != nullptr) {
    charge_->remove(capacity_);
  }
}

void OutputBuffer::append(const char* data, size_t size) {
  if (tail_ + size > capacity_) {
    const size_t pending = tail_ - head_;
    const size_t doubled = std::min(capacity_ > 0 ? 2 * capacity_ : size, capacity_limit_);
    if (pending + size <= capacity_ && (head_ >= pending || doubled <= capacity_)) {
      // Enough room once the consumed front is reclaimed, and moving is cheap (pending is at most
      // half of what was consumed) or growing is not allowed (the storage is at its limit).
      std::memmove(storage_.get(), storage_.get() + head_, pending);
    } else {
      grow(std::max(pending + size, doubled));
    }
    head_ = 0;
    tail_ = pending;
  }
  std::memcpy(storage_.get() + tail_, data, size);
  tail_ += size;
}

void OutputBuffer::grow(size_t capacity) {
  const size_t pending = tail_ - head_;
  if (head_ > 0) {
    std::memmove(storage_.get(), storage_.get() + head_, pending);
  }
  char* const grown = static_cast<char*>(std::realloc(storage_.get(), capacity));
  if (grown == nullptr) {
    throw std::bad_alloc();
  }
  (void)storage_.release();
  storage_.reset(grown);
  if (charge_ != nullptr) {
    charge_->add(capacity - capacity_);
  }
  capacity_ = capacity;
}

void OutputBuffer::consume(size_t size) {
  head_ += size;
  if (head_ == tail_) {
    head_ = tail_ = 0;
  }
}

}  // namespace reactord::common
