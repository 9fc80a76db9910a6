#pragma once

#include <cstddef>
#include <cstdlib>
#include <limits>
#include <memory>

#include "common/memory_charge.h"

namespace reactord::common {

// Bytes accepted for a socket that it has not taken yet. A connection allocates one only when a
// write comes back short and frees it once drained, so idle connections hold none. Its storage
// doubles as it fills, but never past `capacity_limit` unless one append needs more than that by
// itself; it grows with realloc(), which moves large blocks by remapping their pages (no second
// copy held while growing). Every change of the storage's size is charged to `charge` (when
// given), and the destructor gives it back. Not thread-safe: owned by one connection.
class OutputBuffer {
 public:
  OutputBuffer() = default;
  OutputBuffer(size_t capacity_limit, MemoryCharge* charge)
      : capacity_limit_(capacity_limit), charge_(charge) {}
  ~OutputBuffer();
  OutputBuffer(const OutputBuffer&) = delete;
  OutputBuffer& operator=(const OutputBuffer&) = delete;

  const char* data() const { return storage_.get() + head_; }
  size_t size() const { return tail_ - head_; }
  bool empty() const { return head_ == tail_; }
  // Bytes of storage allocated (what the buffer costs).
  size_t capacity() const { return capacity_; }

  void append(const char* data, size_t size);
  // Drops the first `size` bytes (size <= this->size()).
  void consume(size_t size);

 private:
  void grow(size_t capacity);
  struct Free {
    void operator()(char* p) const { std::free(p); }
  };

  const size_t capacity_limit_ = std::numeric_limits<size_t>::max();
  MemoryCharge* const charge_ = nullptr;
  std::unique_ptr<char, Free> storage_;
  size_t capacity_ = 0;
  size_t head_ = 0;
  size_t tail_ = 0;
};

}  // namespace reactord::common
