#pragma once

#include <array>
#include <cstdint>

namespace reactord::common {

// The overload levels of a worker, in the order their actions begin as memory use rises:
//   0 normal
//   1 pause_reading   connections that hold pending output are not read
//   2 stop_accepting  the listening socket is not watched (connections wait in the accept queue)
//   3 closing         the connections holding the most unsent output, stalled longest, are closed
inline constexpr int kOverloadLevels = 4;
const char* overloadLevelName(int level);

// Where the levels begin and end, in bytes of one worker's share of the buffer budget. A value
// type.
//   level  begins at  ends below
//   1      50 %       40 %
//   2      75 %       65 %
//   3      90 %       80 %
// Reaching level 3, a worker closes connections until use is under 70 % (close_target): out of
// danger, still not accepting. A worker that has stopped accepting for a while closes the
// connections stalled that long until use is under 60 % (reopen_target), below the mark where
// accepting resumes, so that new clients get in again, a batch at a time.
struct OverloadMarks {
  std::array<uint64_t, kOverloadLevels - 1> rise{};  // rise[k]: level k+1 begins at this use
  std::array<uint64_t, kOverloadLevels - 1> fall{};  // fall[k]: level k+1 ends below this use
  uint64_t close_target = 0;
  uint64_t reopen_target = 0;

  static OverloadMarks forShare(uint64_t share_bytes);
  // The level for `held` bytes when the level is `current` now: up to the highest level whose
  // rise mark is reached; down past each level whose fall mark is not.
  int levelFor(uint64_t held, int current) const;
};

}  // namespace reactord::common
