#include "common/memory_account.h"

#include <limits>

namespace reactord::common {

MemoryAccount::MemoryAccount(uint64_t share_bytes, Callback on_cross, void* owner)
    : share_(share_bytes),
      marks_(OverloadMarks::forShare(share_bytes)),
      on_cross_(on_cross),
      owner_(owner),
      rise_at_(marks_.rise[0]) {}

void MemoryAccount::setLevel(int level) {
  level_.store(level, std::memory_order_relaxed);
  rise_at_ =
      level < kOverloadLevels - 1 ? marks_.rise[level] : std::numeric_limits<uint64_t>::max();
  fall_below_ = level > 0 ? marks_.fall[level - 1] : 0;
}

}  // namespace reactord::common
