#include "common/sample_ring.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace reactord::common {
namespace {

std::vector<uint64_t> readAll(const SampleRing<8>& ring, uint64_t* cursor, uint64_t* lost) {
  std::vector<uint64_t> values;
  *lost = ring.readSince(cursor, [&](uint64_t value) { values.push_back(value); });
  return values;
}

TEST(SampleRingTest, AReaderGetsEveryValueOnceInOrder) {
  SampleRing<8> ring;
  uint64_t cursor = 0;
  uint64_t lost = 0;
  EXPECT_TRUE(readAll(ring, &cursor, &lost).empty());
  ring.push(5);
  ring.push(7);
  EXPECT_EQ(readAll(ring, &cursor, &lost), (std::vector<uint64_t>{5, 7}));
  EXPECT_EQ(lost, 0u);
  EXPECT_TRUE(readAll(ring, &cursor, &lost).empty());
  for (uint64_t i = 0; i < 8; ++i) {
    ring.push(100 + i);
  }
  EXPECT_EQ(readAll(ring, &cursor, &lost),
            (std::vector<uint64_t>{100, 101, 102, 103, 104, 105, 106, 107}));
  EXPECT_EQ(lost, 0u);
  EXPECT_EQ(cursor, 10u);
  EXPECT_EQ(ring.written(), 10u);
}

TEST(SampleRingTest, AReaderTooFarBehindIsToldHowManyItMissed) {
  SampleRing<8> ring;
  uint64_t cursor = 0;
  uint64_t lost = 0;
  for (uint64_t i = 1; i <= 20; ++i) {
    ring.push(i);
  }
  EXPECT_EQ(readAll(ring, &cursor, &lost), (std::vector<uint64_t>{13, 14, 15, 16, 17, 18, 19, 20}));
  EXPECT_EQ(lost, 12u);
}

TEST(SampleRingTest, LargeValuesAreClamped) {
  SampleRing<8> ring;
  ring.push(SampleRing<8>::kMaxValue);
  ring.push(~uint64_t{0});
  uint64_t cursor = 0;
  uint64_t lost = 0;
  EXPECT_EQ(readAll(ring, &cursor, &lost),
            (std::vector<uint64_t>{SampleRing<8>::kMaxValue, SampleRing<8>::kMaxValue}));
}

// A writer racing a reader (run under TSan too): every value the reader gets is one the writer
// pushed, in order, and got + lost accounts for every push.
TEST(SampleRingTest, ConcurrentReaderSeesOrderedValuesOrCountsThemLost) {
  SampleRing<8> ring;
  constexpr uint64_t kPushes = 200000;
  std::thread writer([&] {
    for (uint64_t i = 1; i <= kPushes; ++i) {
      ring.push(i);
    }
  });
  uint64_t cursor = 0;
  uint64_t got = 0;
  uint64_t lost = 0;
  uint64_t last = 0;
  bool ordered = true;
  while (cursor < kPushes) {
    lost += ring.readSince(&cursor, [&](uint64_t value) {
      ordered = ordered && value > last;
      last = value;
      ++got;
    });
  }
  writer.join();
  EXPECT_TRUE(ordered);
  EXPECT_EQ(got + lost, kPushes);
  EXPECT_EQ(last, kPushes);
}

}  // namespace
}  // namespace reactord::common
