#pragma once

#include <atomic>
#include <cstdint>

#include "common/overload_marks.h"

namespace reactord::common {

// The bytes that one worker's connections make the process hold (output buffers, connection
// state, an estimate of their kernel socket buffers), against the worker's share of the buffer
// budget, and the overload level that use puts the worker in. Changed only where memory is taken
// or given back (a buffer grows or is freed, a connection opens, pauses or closes), never per
// message. When a change crosses the mark of the current level (OverloadMarks), `on_cross` is
// called, inline: the owner decides the new level (setLevel).
// Owned by its worker. Single writer: add(), remove() and setLevel() on the worker's thread only;
// held(), peak() and level() are thread-safe (relaxed loads of single-writer values).
class MemoryAccount {
 public:
  using Callback = void (*)(void* owner);

  MemoryAccount(uint64_t share_bytes, Callback on_cross, void* owner);
  MemoryAccount(const MemoryAccount&) = delete;
  MemoryAccount& operator=(const MemoryAccount&) = delete;

  void add(uint64_t bytes) {
    const uint64_t held = held_.load(std::memory_order_relaxed) + bytes;
    held_.store(held, std::memory_order_relaxed);
    if (held > peak_.load(std::memory_order_relaxed)) {
      peak_.store(held, std::memory_order_relaxed);
    }
    if (held >= rise_at_) {
      on_cross_(owner_);
    }
  }
  void remove(uint64_t bytes) {
    const uint64_t held = held_.load(std::memory_order_relaxed) - bytes;
    held_.store(held, std::memory_order_relaxed);
    if (held < fall_below_) {
      on_cross_(owner_);
    }
  }
  // The level the owner put the worker in; crossings are reported against its marks from now on.
  void setLevel(int level);

  uint64_t share() const { return share_; }
  const OverloadMarks& marks() const { return marks_; }
  // The level that the marks give for the use now (what setLevel should be told).
  int levelForUse() const { return marks_.levelFor(held(), level()); }
  uint64_t held() const { return held_.load(std::memory_order_relaxed); }
  uint64_t peak() const { return peak_.load(std::memory_order_relaxed); }
  int level() const { return level_.load(std::memory_order_relaxed); }

 private:
  const uint64_t share_;
  const OverloadMarks marks_;
  const Callback on_cross_;
  void* const owner_;
  uint64_t rise_at_;         // the next level begins at this use
  uint64_t fall_below_ = 0;  // the current level ends below this use
  std::atomic<uint64_t> held_{0};
  std::atomic<uint64_t> peak_{0};
  std::atomic<int> level_{0};
};

}  // namespace reactord::common
