#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "common/counter.h"

namespace reactord::common {

// The read-size histogram: bucket i counts reads of (2^(i-1), 2^i] bytes (bucket 0: 1 byte), up to
// 64 KiB, the largest read a worker makes.
inline constexpr size_t kReadSizeBuckets = 17;
// ceil(log2(bytes)) for bytes >= 1, computed as floor(log2(2 * bytes - 1)): one bsr, no branch.
inline constexpr size_t readSizeBucket(size_t bytes) {
  return static_cast<size_t>(63 ^ __builtin_clzll(2 * uint64_t{bytes} - 1));
}
inline constexpr uint64_t readSizeBucketBound(size_t bucket) { return uint64_t{1} << bucket; }

// A copy of one worker's counters at one moment, or the sum or difference of several. A value type.
struct StatsSnapshot {
  uint64_t accepted = 0;                // connections taken into service
  uint64_t closed = 0;                  // connections that left service, for any reason
  uint64_t rejected = 0;                // closed at once: --max_connections reached
  uint64_t per_ip_rejected = 0;         // closed at once: --max_connections_per_ip reached
  uint64_t idle_closed = 0;             // closed by --idle_timeout_s
  uint64_t forced_closed = 0;           // closed by the drain deadline or an immediate stop
  uint64_t too_long = 0;                // closed after a message over --max_message_bytes
  uint64_t write_timeout_closed = 0;    // output stalled for --write_timeout_s
  uint64_t message_timeout_closed = 0;  // a message unfinished after --message_timeout_s
  uint64_t overload_closed = 0;         // closed by the overload close action (memory budget)
  uint64_t conn_errors = 0;             // read/write errors (resets and the like)
  uint64_t accept_errors = 0;           // failed accept() calls, EAGAIN excluded
  uint64_t reads = 0;                   // read() calls that returned data
  uint64_t messages = 0;                // acknowledged messages (ack protocol)
  uint64_t bytes_in = 0;
  uint64_t bytes_out = 0;
  uint64_t bytes_discarded = 0;  // read and dropped while waiting for a peer's EOF (in bytes_in)
  // Overload actions begun (memory budget): each counts once per worker per episode.
  uint64_t overload_pause_reading = 0;   // level 1: connections holding output are not read
  uint64_t overload_stop_accepting = 0;  // level 2: the listener is not watched
  uint64_t overload_close_rounds = 0;    // level 3: rounds of closing connections
  std::array<uint64_t, kReadSizeBuckets> read_sizes{};  // reads by size; they sum to `reads`

  // Open connections. Saturates: a snapshot reads its counters one by one.
  uint64_t active() const { return accepted > closed ? accepted - closed : 0; }
  StatsSnapshot& operator+=(const StatsSnapshot& other);
  StatsSnapshot& operator-=(const StatsSnapshot& other);
  friend StatsSnapshot operator-(StatsSnapshot a, const StatsSnapshot& b) { return a -= b; }
  friend bool operator==(const StatsSnapshot&, const StatsSnapshot&) = default;
};

// One worker's live counters: written by that worker's thread only, read by the supervisor.
// Cache-line aligned so that two workers never write the same line.
struct alignas(64) WorkerStats {
  Counter accepted, closed, rejected, per_ip_rejected, idle_closed, forced_closed, too_long,
      write_timeout_closed, message_timeout_closed, overload_closed, conn_errors, accept_errors,
      messages, bytes_in, bytes_out, bytes_discarded, overload_pause_reading,
      overload_stop_accepting, overload_close_rounds;
  // Reads by size; their sum is the snapshot's `reads`, so a read costs one add, not two.
  std::array<Counter, kReadSizeBuckets> read_sizes;

  // Writer-thread-only: one read() that returned `bytes` (1..64 KiB) of data.
  void countRead(size_t bytes) {
    bytes_in.add(bytes);
    read_sizes[readSizeBucket(bytes)].add();
  }

  // Thread-safe.
  StatsSnapshot snapshot() const;
};

// One worker's memory against its share of the buffer budget, at one moment. A value type.
struct MemoryGauges {
  uint64_t share = 0;     // the worker's share of --max_buffered_bytes
  uint64_t held = 0;      // bytes its connections hold now (MemoryAccount)
  uint64_t peak = 0;      // the most they held at once since the start
  uint64_t overload = 0;  // its overload level, 0..3 (overloadLevelName)
};

// Formats one stats log line, "stats workers=2 active=7 accepted=3 ...": `now` and `before` hold
// one snapshot per worker; counts are now - before and rates divide them by `seconds`. Gauges
// (active, per-worker active, and the memory keys from `memory`, one per worker, when given) come
// from `now`. The keys are stable and listed in the README.
std::string formatStatsLine(const char* label, const std::vector<StatsSnapshot>& now,
                            const std::vector<StatsSnapshot>& before, double seconds,
                            const std::vector<MemoryGauges>& memory = {});

}  // namespace reactord::common
