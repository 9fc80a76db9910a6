#pragma once

#include <cstddef>
#include <memory>

namespace reactord::common {

// Bytes accepted for a socket that it has not taken yet. A connection allocates one only when a
// write comes back short and frees it once drained, so idle connections hold none. Not
// thread-safe: owned by one connection.
class OutputBuffer {
 public:
  const char* data() const { return storage_.get() + head_; }
  size_t size() const { return tail_ - head_; }
  bool empty() const { return head_ == tail_; }

  void append(const char* data, size_t size);
  // Drops the first `size` bytes (size <= this->size()).
  void consume(size_t size);

 private:
  std::unique_ptr<char[]> storage_;
  size_t capacity_ = 0;
  size_t head_ = 0;
  size_t tail_ = 0;
};

}  // namespace reactord::common
