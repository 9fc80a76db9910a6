#pragma once

#include <cstdint>

#include "common/counter.h"

namespace reactord::client {

// A copy of a worker's counters at one moment, or a sum or difference of several. A value type.
struct BenchTotals {
  uint64_t messages = 0;          // replies received whole and verified
  uint64_t connects = 0;          // connections established
  uint64_t closes = 0;            // connections closed, for any reason
  uint64_t mismatches = 0;        // replies that differ from what the protocol promises
  uint64_t resets = 0;            // resets, and closes by the server that were not asked for
  uint64_t timeouts = 0;          // no reply (or no close after a half-close) within the timeout
  uint64_t connect_failures = 0;  // refused, failed or timed-out connects
  uint64_t settled = 0;           // mode=idle: connections verified or given up on
  uint64_t server_closes = 0;     // mode=stall: connections the server closed (not an error)

  uint64_t open() const { return connects - closes; }
  uint64_t errors() const { return mismatches + resets + timeouts + connect_failures; }
  BenchTotals& operator+=(const BenchTotals& other);
  BenchTotals& operator-=(const BenchTotals& other);
  friend BenchTotals operator-(BenchTotals a, const BenchTotals& b) { return a -= b; }
};

// One worker's live counters: written by the worker's thread only, read by the runner's progress
// line. Cache-line aligned so that two workers never write the same line.
struct alignas(64) BenchCounters {
  common::Counter messages, connects, closes, mismatches, resets, timeouts, connect_failures,
      settled, server_closes;

  // Thread-safe.
  BenchTotals snapshot() const;
};

}  // namespace reactord::client
