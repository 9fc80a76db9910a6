#pragma once

#include <cstdint>

#include "common/counter.h"

namespace reactord::client {

// Every counter of a reactor-bench worker, once: the live counters, the snapshot and its sum and
// difference come from this list. X(name, what it counts).
#define REACTOR_BENCH_COUNTERS(X)                                                  \
  X(messages, "replies received whole and verified")                               \
  X(connects, "connections established")                                           \
  X(closes, "connections closed, for any reason")                                  \
  X(mismatches, "replies that differ from what the protocol promises")             \
  X(resets, "resets, and closes by the server that were not asked for")            \
  X(timeouts, "no reply (or no close after a half-close) within the timeout")      \
  X(connect_failures, "refused, failed or timed-out connects")                     \
  X(connect_refused, "connect_failures refused by the server (ECONNREFUSED)")      \
  X(connect_timeouts, "connect_failures not completed within the timeout")         \
  X(missed_connects, "churn at --connect_rate: connects due with every slot busy") \
  X(settled, "mode=idle: connections verified or given up on")                     \
  X(server_closes, "mode=stall: connections the server closed (not an error)")

// A copy of a worker's counters at one moment, or a sum or difference of several. A value type.
struct BenchTotals {
#define REACTOR_BENCH_TOTAL(name, what) uint64_t name = 0;
  REACTOR_BENCH_COUNTERS(REACTOR_BENCH_TOTAL)
#undef REACTOR_BENCH_TOTAL

  uint64_t open() const { return connects - closes; }
  uint64_t errors() const { return mismatches + resets + timeouts + connect_failures; }
  BenchTotals& operator+=(const BenchTotals& other);
  BenchTotals& operator-=(const BenchTotals& other);
  friend BenchTotals operator-(BenchTotals a, const BenchTotals& b) { return a -= b; }
};

// One worker's live counters: written by the worker's thread only, read by the runner's progress
// line. Cache-line aligned so that two workers never write the same line.
struct alignas(64) BenchCounters {
#define REACTOR_BENCH_COUNTER(name, what) common::Counter name;
  REACTOR_BENCH_COUNTERS(REACTOR_BENCH_COUNTER)
#undef REACTOR_BENCH_COUNTER

  // Thread-safe.
  BenchTotals snapshot() const;
};

}  // namespace reactord::client
