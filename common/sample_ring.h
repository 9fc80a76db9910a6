#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>

namespace reactord::common {

// The last N values one writer thread recorded, readable by any thread without a lock. Each slot
// is one 64-bit word holding the value (40 bits) and the low 24 bits of its sequence number, so a
// reader never sees half a write and can tell a slot that was overwritten since it looked at the
// head. A reader keeps a cursor (the sequence number it has read up to) and gets every value
// recorded since, as long as it reads at least once per N values; what it missed it is told.
// A member of the writer's object; the writer and the readers are named in the owner's comment.
template <size_t N>
class SampleRing {
  static_assert(N > 0 && (N & (N - 1)) == 0, "N must be a power of two");

 public:
  static constexpr unsigned kValueBits = 40;
  static constexpr uint64_t kMaxValue = (uint64_t{1} << kValueBits) - 1;
  static constexpr uint64_t kTagMask = (uint64_t{1} << (64 - kValueBits)) - 1;

  // Writer-thread-only. Values above kMaxValue are recorded as kMaxValue.
  void push(uint64_t value) {
    const uint64_t seq = written_.load(std::memory_order_relaxed) + 1;
    slots_[seq % N].store(((seq & kTagMask) << kValueBits) | std::min(value, kMaxValue),
                          std::memory_order_relaxed);
    written_.store(seq, std::memory_order_release);
  }

  // Thread-safe: how many values were recorded so far.
  uint64_t written() const { return written_.load(std::memory_order_acquire); }

  // Thread-safe: calls visit(value) for each value recorded after `*cursor` (0 at first) that is
  // still held, oldest first, and moves `*cursor` to the last one recorded. Returns how many were
  // recorded but overwritten before this read (the reader fell more than N behind).
  template <typename Visit>
  uint64_t readSince(uint64_t* cursor, Visit visit) const {
    const uint64_t head = written();
    uint64_t lost = 0;
    uint64_t first = *cursor + 1;
    if (head >= N && first + N <= head) {
      lost = head - N + 1 - first;
      first = head - N + 1;
    }
    for (uint64_t seq = first; seq <= head; ++seq) {
      const uint64_t word = slots_[seq % N].load(std::memory_order_relaxed);
      if ((word >> kValueBits) != (seq & kTagMask)) {
        ++lost;  // the writer has since moved past it
        continue;
      }
      visit(word & kMaxValue);
    }
    *cursor = std::max(*cursor, head);
    return lost;
  }

 private:
  std::array<std::atomic<uint64_t>, N> slots_{};
  std::atomic<uint64_t> written_{0};
};

}  // namespace reactord::common
