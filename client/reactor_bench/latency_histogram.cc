#include "client/reactor_bench/latency_histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace reactord::client {
namespace {

// Values below kExact (2^kSubBits) get a bucket each. Above, the kSubBits highest bits of the value
// pick the bucket: the top bit is always 1, so each power of two has kExact / 2 buckets.
constexpr int kSubBits = 8;
constexpr uint64_t kExact = uint64_t{1} << kSubBits;
constexpr uint64_t kHalf = kExact / 2;
constexpr int kMaxBits = 48;
constexpr size_t kBucketCount = kExact + (kMaxBits - kSubBits) * kHalf;

}  // namespace

LatencyHistogram::LatencyHistogram() : buckets_(kBucketCount, 0) {}

size_t LatencyHistogram::bucketOf(uint64_t nanos) {
  nanos = std::min(nanos, kMaxValue);
  if (nanos < kExact) {
    return static_cast<size_t>(nanos);
  }
  const int shift = std::bit_width(nanos) - kSubBits;  // >= 1
  const uint64_t top = nanos >> shift;                 // in [kHalf, kExact)
  return static_cast<size_t>(kExact + (shift - 1) * kHalf + (top - kHalf));
}

uint64_t LatencyHistogram::bucketUpperEdge(size_t bucket) {
  if (bucket < kExact) {
    return bucket;
  }
  const size_t above = bucket - kExact;
  const int shift = static_cast<int>(above / kHalf) + 1;
  const uint64_t top = kHalf + above % kHalf;
  return ((top + 1) << shift) - 1;
}

void LatencyHistogram::record(uint64_t nanos) {
  ++buckets_[bucketOf(nanos)];
  ++count_;
  min_ = std::min(min_, nanos);
  max_ = std::max(max_, nanos);
  sum_ += static_cast<double>(nanos);
}

void LatencyHistogram::merge(const LatencyHistogram& other) {
  for (size_t i = 0; i < buckets_.size(); ++i) {
    buckets_[i] += other.buckets_[i];
  }
  count_ += other.count_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
  sum_ += other.sum_;
}

void LatencyHistogram::reset() { *this = LatencyHistogram(); }

double LatencyHistogram::mean() const {
  return count_ == 0 ? 0.0 : sum_ / static_cast<double>(count_);
}

uint64_t LatencyHistogram::percentile(double percentile) const {
  if (count_ == 0) {
    return 0;
  }
  const double clamped = std::clamp(percentile, 0.0, 100.0);
  // The rank of the sample asked for, 1-based: p50 of 1..100 is the 50th sample.
  const auto rank = std::max<uint64_t>(
      1, static_cast<uint64_t>(std::ceil(clamped / 100.0 * static_cast<double>(count_))));
  uint64_t seen = 0;
  for (size_t i = 0; i < buckets_.size(); ++i) {
    seen += buckets_[i];
    if (seen >= rank) {
      return std::clamp(bucketUpperEdge(i), min(), max_);
    }
  }
  return max_;
}

}  // namespace reactord::client
