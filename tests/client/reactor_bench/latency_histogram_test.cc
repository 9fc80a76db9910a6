#include "client/reactor_bench/latency_histogram.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

namespace reactord::client {
namespace {

constexpr uint64_t kMicro = 1000;

// The exact value of rank ceil(p% of n) in sorted `values`: what percentile() approximates.
uint64_t exactPercentile(std::vector<uint64_t> values, double p) {
  std::sort(values.begin(), values.end());
  const auto rank = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(values.size())));
  return values[std::max<size_t>(rank, 1) - 1];
}

// percentile() is the upper edge of the right bucket: never below the truth, at most 1/128 above.
void expectWithinResolution(uint64_t reported, uint64_t truth) {
  EXPECT_GE(reported, truth);
  EXPECT_LE(static_cast<double>(reported), static_cast<double>(truth) * (1 + 1.0 / 128) + 1);
}

TEST(LatencyHistogramTest, EmptyReportsZeros) {
  LatencyHistogram histogram;
  EXPECT_EQ(histogram.count(), 0u);
  EXPECT_EQ(histogram.percentile(50), 0u);
  EXPECT_EQ(histogram.max(), 0u);
  EXPECT_EQ(histogram.min(), 0u);
}

TEST(LatencyHistogramTest, SmallValuesAreExact) {
  for (uint64_t v = 0; v < 256; ++v) {
    EXPECT_EQ(LatencyHistogram::bucketUpperEdge(LatencyHistogram::bucketOf(v)), v);
  }
}

TEST(LatencyHistogramTest, BucketsStayWithinOnePercentFromMicrosecondsToAnHour) {
  size_t previous = 0;
  for (double v = 1000; v < 3600e9; v *= 1.0037) {
    const auto value = static_cast<uint64_t>(v);
    const size_t bucket = LatencyHistogram::bucketOf(value);
    EXPECT_GE(bucket, previous) << value;  // monotonic
    previous = bucket;
    expectWithinResolution(LatencyHistogram::bucketUpperEdge(bucket), value);
    if (bucket > 0) {
      EXPECT_LT(LatencyHistogram::bucketUpperEdge(bucket - 1), value) << value;
    }
  }
}

TEST(LatencyHistogramTest, UniformDistribution) {
  LatencyHistogram histogram;
  for (uint64_t i = 1; i <= 10000; ++i) {
    histogram.record(i * kMicro);  // 1 us .. 10 ms
  }
  EXPECT_EQ(histogram.count(), 10000u);
  expectWithinResolution(histogram.percentile(50), 5000 * kMicro);
  expectWithinResolution(histogram.percentile(90), 9000 * kMicro);
  expectWithinResolution(histogram.percentile(99), 9900 * kMicro);
  expectWithinResolution(histogram.percentile(99.9), 9990 * kMicro);
  EXPECT_EQ(histogram.percentile(100), 10000 * kMicro);
  EXPECT_EQ(histogram.max(), 10000 * kMicro);
  EXPECT_EQ(histogram.min(), kMicro);
  EXPECT_NEAR(histogram.mean(), 5000.5 * kMicro, 1.0);
}

TEST(LatencyHistogramTest, ExponentialDistributionMatchesSortedSamples) {
  std::mt19937_64 random(42);
  std::exponential_distribution<double> exponential(1.0 / (100.0 * kMicro));  // mean 100 us
  std::vector<uint64_t> values;
  LatencyHistogram histogram;
  for (int i = 0; i < 200000; ++i) {
    const auto v = static_cast<uint64_t>(exponential(random)) + kMicro;
    values.push_back(v);
    histogram.record(v);
  }
  for (double p : {50.0, 90.0, 99.0, 99.9, 99.99}) {
    SCOPED_TRACE(p);
    expectWithinResolution(histogram.percentile(p), exactPercentile(values, p));
  }
  EXPECT_EQ(histogram.max(), *std::max_element(values.begin(), values.end()));
}

TEST(LatencyHistogramTest, RareStallShowsOnlyInTheTail) {
  LatencyHistogram histogram;
  for (int i = 0; i < 990; ++i) {
    histogram.record(100 * kMicro);
  }
  for (int i = 0; i < 10; ++i) {
    histogram.record(50'000 * kMicro);  // 50 ms stalls, 1% of the samples
  }
  expectWithinResolution(histogram.percentile(50), 100 * kMicro);
  expectWithinResolution(histogram.percentile(99), 100 * kMicro);
  expectWithinResolution(histogram.percentile(99.9), 50'000 * kMicro);
  EXPECT_EQ(histogram.max(), 50'000 * kMicro);
}

TEST(LatencyHistogramTest, MergeEqualsRecordingEverything) {
  LatencyHistogram all, odd, even;
  for (uint64_t i = 1; i <= 5000; ++i) {
    all.record(i * 37 * kMicro);
    (i % 2 ? odd : even).record(i * 37 * kMicro);
  }
  odd.merge(even);
  EXPECT_EQ(odd.count(), all.count());
  EXPECT_EQ(odd.max(), all.max());
  EXPECT_EQ(odd.min(), all.min());
  for (double p : {1.0, 50.0, 90.0, 99.0, 99.9}) {
    EXPECT_EQ(odd.percentile(p), all.percentile(p)) << p;
  }
}

TEST(LatencyHistogramTest, HugeValuesAreClampedButMaxIsExact) {
  LatencyHistogram histogram;
  const uint64_t huge = LatencyHistogram::kMaxValue * 4;
  histogram.record(huge);
  EXPECT_EQ(histogram.max(), huge);
  EXPECT_EQ(histogram.percentile(50), huge);  // clamped to [min, max]
  EXPECT_LT(LatencyHistogram::bucketOf(huge), 100000u);
}

TEST(LatencyHistogramTest, ResetForgetsEverything) {
  LatencyHistogram histogram;
  histogram.record(5 * kMicro);
  histogram.reset();
  EXPECT_EQ(histogram.count(), 0u);
  EXPECT_EQ(histogram.percentile(99), 0u);
  histogram.record(7 * kMicro);
  EXPECT_EQ(histogram.min(), 7 * kMicro);
}

}  // namespace
}  // namespace reactord::client
