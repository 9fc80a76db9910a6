#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace reactord::client {

// A log-bucketed histogram of durations in nanoseconds, in the style of HdrHistogram: values
// below 256 ns are exact; above, each power of two is split into 128 equal buckets, so a bucket is
// at most 1/128 (0.8%) of its value wide. Values are clamped to about 78 hours. The exact minimum,
// maximum and sum are kept beside the buckets. Costs 42 KiB. A value type with no locking: one
// thread records; others read it only after that thread stopped, or merge copies.
class LatencyHistogram {
 public:
  LatencyHistogram();

  void record(uint64_t nanos);
  // Adds every sample of `other`.
  void merge(const LatencyHistogram& other);
  void reset();

  uint64_t count() const { return count_; }
  uint64_t min() const { return count_ == 0 ? 0 : min_; }
  uint64_t max() const { return max_; }
  double mean() const;
  // The value at `percentile` (0..100]: the upper edge of the bucket holding the sample of that
  // rank (never above max()), so the answer is within 0.8% above the true sample. 0 when empty.
  uint64_t percentile(double percentile) const;

  // Exposed for tests: the bucket of a value and the highest value a bucket holds.
  static size_t bucketOf(uint64_t nanos);
  static uint64_t bucketUpperEdge(size_t bucket);
  static constexpr uint64_t kMaxValue = (uint64_t{1} << 48) - 1;

 private:
  std::vector<uint64_t> buckets_;
  uint64_t count_ = 0;
  uint64_t min_ = UINT64_MAX;
  uint64_t max_ = 0;
  double sum_ = 0;
};

}  // namespace reactord::client
