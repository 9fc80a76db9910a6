#include "common/overload_marks.h"

namespace reactord::common {
namespace {

uint64_t percentOf(uint64_t bytes, uint64_t percent) { return bytes / 100 * percent; }

}  // namespace

const char* overloadLevelName(int level) {
  static const char* const kNames[kOverloadLevels] = {"normal", "pause_reading", "stop_accepting",
                                                      "closing"};
  return level >= 0 && level < kOverloadLevels ? kNames[level] : "unknown";
}

OverloadMarks OverloadMarks::forShare(uint64_t share_bytes) {
  OverloadMarks marks;
  marks.rise = {percentOf(share_bytes, 50), percentOf(share_bytes, 75), percentOf(share_bytes, 90)};
  marks.fall = {percentOf(share_bytes, 40), percentOf(share_bytes, 65), percentOf(share_bytes, 80)};
  marks.close_target = percentOf(share_bytes, 70);
  marks.reopen_target = percentOf(share_bytes, 60);
  return marks;
}

int OverloadMarks::levelFor(uint64_t held, int current) const {
  int level = current;
  while (level < kOverloadLevels - 1 && held >= rise[level]) {
    ++level;
  }
  while (level > 0 && held < fall[level - 1]) {
    --level;
  }
  return level;
}

}  // namespace reactord::common
