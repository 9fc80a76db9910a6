#pragma once

#include <atomic>
#include <cstdint>

namespace reactord::server {

// The process-wide cap on open connections (--max_connections), shared by every worker, since a
// client's connections land on any of them. Thread-safe; touched once per accept and per close,
// never per message. Owned by Server, which outlives the workers.
class ConnectionLimit {
 public:
  explicit ConnectionLimit(uint64_t max) : max_(max) {}

  // Takes one slot; false (and nothing taken) when all are in use.
  bool tryAcquire() {
    if (max_ == 0) {
      return true;
    }
    if (open_.fetch_add(1, std::memory_order_relaxed) >= max_) {
      open_.fetch_sub(1, std::memory_order_relaxed);
      return false;
    }
    return true;
  }
  void release() {
    if (max_ != 0) {
      open_.fetch_sub(1, std::memory_order_relaxed);
    }
  }

 private:
  const uint64_t max_;
  std::atomic<uint64_t> open_{0};
};

}  // namespace reactord::server
