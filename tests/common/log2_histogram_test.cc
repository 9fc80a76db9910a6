#include "common/log2_histogram.h"

#include <gtest/gtest.h>

namespace reactord::common {
namespace {

TEST(Log2HistogramTest, RecordsBucketsAndSumWithAnOverflowBucket) {
  Log2Histogram<4> histogram;  // (.., 1], (1, 2], (2, 4], and everything above 4
  for (uint64_t value : {0, 1, 2, 3, 4, 5, 1000}) {
    histogram.record(value);
  }
  const Log2Counts<4> counts = histogram.snapshot();
  EXPECT_EQ(counts.buckets[0], 2u);  // 0 and 1
  EXPECT_EQ(counts.buckets[1], 1u);  // 2
  EXPECT_EQ(counts.buckets[2], 2u);  // 3 and 4
  EXPECT_EQ(counts.buckets[3], 2u);  // 5 and 1000: the overflow bucket
  EXPECT_EQ(counts.count(), 7u);
  EXPECT_EQ(counts.sum, 1015u);
}

}  // namespace
}  // namespace reactord::common
