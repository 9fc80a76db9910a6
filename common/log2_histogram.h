#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "common/counter.h"

namespace reactord::common {

// Histograms over powers of two: bucket i counts values in (2^(i-1), 2^i], bucket 0 the values 0
// and 1. Choose the number of buckets so that values fit; record() puts a larger one in the last.

// ceil(log2(value)) for value >= 1, computed as floor(log2(2 * value - 1)): one bsr, no branch.
inline constexpr size_t log2BucketOfPositive(uint64_t value) {
  return static_cast<size_t>(63 ^ __builtin_clzll(2 * value - 1));
}
inline constexpr size_t log2Bucket(uint64_t value) {
  return log2BucketOfPositive(value + (value == 0 ? 1 : 0));
}
inline constexpr uint64_t log2BucketBound(size_t bucket) { return uint64_t{1} << bucket; }

// A copy of a histogram: per-bucket counts (not cumulative) and the sum of the values. A value
// type; any thread.
template <size_t N>
struct Log2Counts {
  static constexpr size_t kBuckets = N;
  std::array<uint64_t, N> buckets{};
  uint64_t sum = 0;

  uint64_t count() const {
    uint64_t total = 0;
    for (uint64_t bucket : buckets) {
      total += bucket;
    }
    return total;
  }
  Log2Counts& operator+=(const Log2Counts& other) {
    for (size_t i = 0; i < N; ++i) {
      buckets[i] += other.buckets[i];
    }
    sum += other.sum;
    return *this;
  }
  Log2Counts& operator-=(const Log2Counts& other) {
    for (size_t i = 0; i < N; ++i) {
      buckets[i] -= other.buckets[i];
    }
    sum -= other.sum;
    return *this;
  }
  friend bool operator==(const Log2Counts&, const Log2Counts&) = default;
};

// The live buckets of one histogram: one writer thread, any readers (Counter). The sum is kept by
// the owner where it has one already (a read-size histogram's sum is the bytes read).
template <size_t N>
struct Log2Buckets {
  std::array<Counter, N> buckets;

  // Writer-thread-only. Values past the last bound land in the last bucket.
  void record(uint64_t value) {
    const size_t bucket = log2Bucket(value);
    buckets[bucket < N ? bucket : N - 1].add();
  }
  // Writer-thread-only, for the per-message path: 1 <= value <= 2^(N-1), which the caller
  // guarantees (a read of at most its buffer's size).
  void recordPositiveInRange(uint64_t value) { buckets[log2BucketOfPositive(value)].add(); }
  // Thread-safe: the counts, with `sum` as the caller knows it.
  Log2Counts<N> snapshot(uint64_t sum) const {
    Log2Counts<N> counts;
    for (size_t i = 0; i < N; ++i) {
      counts.buckets[i] = buckets[i].get();
    }
    counts.sum = sum;
    return counts;
  }
};

// A histogram that keeps its own sum: for values the owner does not count anywhere else (a
// connection's duration, its bytes). One writer thread, any readers. The last bucket also holds
// every value past its lower bound: it is the overflow bucket (+Inf) when rendered.
template <size_t N>
struct Log2Histogram {
  Log2Buckets<N> buckets;
  Counter sum;

  // Writer-thread-only.
  void record(uint64_t value) {
    buckets.record(value);
    sum.add(value);
  }
  // Thread-safe.
  Log2Counts<N> snapshot() const { return buckets.snapshot(sum.get()); }
};

}  // namespace reactord::common
