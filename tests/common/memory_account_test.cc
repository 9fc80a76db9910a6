#include "common/memory_account.h"

#include <gtest/gtest.h>

#include "common/memory_charge.h"
#include "common/overload_marks.h"

namespace reactord::common {
namespace {

constexpr uint64_t kShare = 1000000;

TEST(OverloadMarksTest, MarksAreTheDocumentedFractionsOfTheShare) {
  const OverloadMarks marks = OverloadMarks::forShare(kShare);
  EXPECT_EQ(marks.rise[0], 500000u);
  EXPECT_EQ(marks.rise[1], 750000u);
  EXPECT_EQ(marks.rise[2], 900000u);
  EXPECT_EQ(marks.fall[0], 400000u);
  EXPECT_EQ(marks.fall[1], 650000u);
  EXPECT_EQ(marks.fall[2], 800000u);
  EXPECT_EQ(marks.close_target, 700000u);
  EXPECT_EQ(marks.reopen_target, 600000u);
  // A round at level 3 ends out of danger but not accepting; a round to let clients in again
  // ends under the mark where accepting resumes.
  EXPECT_LT(marks.close_target, marks.fall[2]);
  EXPECT_GT(marks.close_target, marks.fall[1]);
  EXPECT_LT(marks.reopen_target, marks.fall[1]);
  EXPECT_STREQ(overloadLevelName(0), "normal");
  EXPECT_STREQ(overloadLevelName(3), "closing");
  EXPECT_STREQ(overloadLevelName(7), "unknown");
}

TEST(OverloadMarksTest, LevelsRiseAtTheirMarkAndFallWithHysteresis) {
  const OverloadMarks marks = OverloadMarks::forShare(kShare);
  EXPECT_EQ(marks.levelFor(0, 0), 0);
  EXPECT_EQ(marks.levelFor(499999, 0), 0);
  EXPECT_EQ(marks.levelFor(500000, 0), 1);
  EXPECT_EQ(marks.levelFor(800000, 0), 2);  // a jump enters every level on the way
  EXPECT_EQ(marks.levelFor(950000, 0), 3);
  // Down: a level ends only under its lower mark.
  EXPECT_EQ(marks.levelFor(850000, 3), 3);
  EXPECT_EQ(marks.levelFor(799999, 3), 2);
  EXPECT_EQ(marks.levelFor(700000, 2), 2);
  EXPECT_EQ(marks.levelFor(700000, 3), 2);  // after a close round: still not accepting
  EXPECT_EQ(marks.levelFor(600000, 2), 1);  // after a reopening round: accepting again
  EXPECT_EQ(marks.levelFor(450000, 1), 1);
  EXPECT_EQ(marks.levelFor(399999, 1), 0);
  EXPECT_EQ(marks.levelFor(0, 3), 0);
}

struct Crossings {
  int count = 0;
  static void note(void* self) { ++static_cast<Crossings*>(self)->count; }
};

TEST(MemoryAccountTest, ReportsOnlyCrossingsOfTheCurrentLevelsMarks) {
  Crossings crossings;
  MemoryAccount account(kShare, &Crossings::note, &crossings);
  account.add(400000);
  account.remove(100000);
  EXPECT_EQ(crossings.count, 0);
  account.add(200000);  // 500000: level 1 begins
  EXPECT_EQ(crossings.count, 1);
  EXPECT_EQ(account.levelForUse(), 1);
  account.setLevel(account.levelForUse());
  account.add(100000);  // 600000: inside level 1, no report
  account.remove(150000);
  EXPECT_EQ(crossings.count, 1);
  account.remove(60000);  // 390000: under level 1's lower mark
  EXPECT_EQ(crossings.count, 2);
  EXPECT_EQ(account.levelForUse(), 0);
  account.setLevel(0);
  EXPECT_EQ(account.held(), 390000u);
  EXPECT_EQ(account.peak(), 600000u);
  EXPECT_EQ(account.level(), 0);
}

TEST(MemoryAccountTest, AtTheTopLevelOnlyAFallIsReported) {
  Crossings crossings;
  MemoryAccount account(kShare, &Crossings::note, &crossings);
  account.add(2 * kShare);
  account.setLevel(account.levelForUse());
  EXPECT_EQ(account.level(), 3);
  crossings.count = 0;
  account.add(kShare);
  EXPECT_EQ(crossings.count, 0);
  account.remove(2500000);
  EXPECT_EQ(crossings.count, 1);
}

TEST(MemoryChargeTest, GivesBackWhatItCharged) {
  Crossings crossings;
  MemoryAccount account(kShare, &Crossings::note, &crossings);
  {
    MemoryCharge first(account, 4096);
    MemoryCharge second(account, 4096);
    first.add(100000);
    second.add(50000);
    second.remove(20000);
    EXPECT_EQ(first.bytes(), 104096u);
    EXPECT_EQ(second.bytes(), 34096u);
    EXPECT_EQ(account.held(), 138192u);
  }
  EXPECT_EQ(account.held(), 0u);
}

}  // namespace
}  // namespace reactord::common
