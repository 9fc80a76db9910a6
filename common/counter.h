#pragma once

#include <atomic>
#include <cstdint>

namespace reactord::common {

// A counter with one writer thread and any number of readers. The writer's add() is a plain load
// and store (no locked instruction); readers see a value that is at most slightly stale.
class Counter {
 public:
  // Writer-thread-only.
  void add(uint64_t n = 1) {
    value_.store(value_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  // Thread-safe.
  uint64_t get() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

}  // namespace reactord::common
