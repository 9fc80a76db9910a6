#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "common/counter.h"
#include "common/log2_histogram.h"

namespace reactord::server {

// Help texts shared by the rows of one Prometheus family.
inline constexpr const char* kRejectedHelp =
    "Connections closed at once, without being served, by the limit named in reason.";
inline constexpr const char* kClosedByHelp =
    "Connections the server closed for the reason given (a subset of connections_closed).";
inline constexpr const char* kOverloadHelp =
    "Overload actions begun as buffered memory rose past the marks of a worker's share of "
    "--max_buffered_bytes: pause_reading and stop_accepting once per worker per episode, close "
    "every round of closing connections.";
inline constexpr const char* kProxyRejectedHelp =
    "Connections closed without a reply before a PROXY protocol header was accepted "
    "(--proxy_protocol), by reason: untrusted = from outside --proxy_protocol_from; no_header = "
    "the first bytes were not a header; too_long = past 107 bytes (v1) or a length field past "
    "2048 (v2); malformed = any other error; timeout = not complete within "
    "--proxy_header_timeout_s; incomplete = the client closed or reset first, or the server "
    "stopped.";
inline constexpr const char* kErrorsHelp =
    "Errors by kind: connection = a read or write error ended a connection (resets and the like); "
    "accept = a failed accept() call.";

// Every counter a worker keeps, once. Adding a counter is one row here: the live counters, the
// snapshot, its sum and difference, the stats line (text and JSON), /stats and /metrics all come
// from this list. Columns:
//   name         the field, and the key in the stats line and JSON
//   family       the Prometheus family, without "reactord_" and "_total"
//   label        a label telling the rows of one family apart (nullptr for none), and its value
//   help         the family's HELP text (the same on every row of the family)
// Rows of one family stay next to each other. The counters of the per-message path come first
// and keep their places (offsets in WorkerStats), so rows for other paths go at the end.
#define REACTORD_WORKER_COUNTERS(X)                                                             \
  X(accepted, "connections_accepted", nullptr, nullptr, "Connections taken into service.")      \
  X(closed, "connections_closed", nullptr, nullptr,                                             \
    "Connections that left service, for any reason.")                                           \
  X(rejected, "connections_rejected", "reason", "max_connections", kRejectedHelp)               \
  X(per_ip_rejected, "connections_rejected", "reason", "max_connections_per_ip", kRejectedHelp) \
  X(idle_closed, "connections_closed_by_server", "reason", "idle_timeout", kClosedByHelp)       \
  X(forced_closed, "connections_closed_by_server", "reason", "shutdown", kClosedByHelp)         \
  X(write_timeout_closed, "connections_closed_by_server", "reason", "write_timeout",            \
    kClosedByHelp)                                                                              \
  X(message_timeout_closed, "connections_closed_by_server", "reason", "message_timeout",        \
    kClosedByHelp)                                                                              \
  X(too_long, "connections_closed_by_server", "reason", "message_too_long", kClosedByHelp)      \
  X(overload_closed, "connections_closed_by_server", "reason", "overload", kClosedByHelp)       \
  X(conn_errors, "errors", "kind", "connection", kErrorsHelp)                                   \
  X(accept_errors, "errors", "kind", "accept", kErrorsHelp)                                     \
  /* reads: the read-size histogram counts them; its live counter stays 0 */                    \
  X(reads, "reads", nullptr, nullptr, "read() calls that returned data.")                       \
  X(messages, "messages", nullptr, nullptr, "Acknowledged messages (ack protocol).")            \
  X(bytes_in, "received_bytes", nullptr, nullptr, "Bytes read from clients.")                   \
  X(bytes_out, "sent_bytes", nullptr, nullptr, "Bytes written to clients.")                     \
  X(bytes_discarded, "discarded_bytes", nullptr, nullptr,                                       \
    "Bytes read and dropped while waiting for the EOF of a client the server closed "           \
    "(included in received_bytes).")                                                            \
  X(overload_pause_reading, "overload_actions", "action", "pause_reading", kOverloadHelp)       \
  X(overload_stop_accepting, "overload_actions", "action", "stop_accepting", kOverloadHelp)     \
  X(overload_close_rounds, "overload_actions", "action", "close", kOverloadHelp)                \
  X(proxy_accepted, "proxy_accepted", nullptr, nullptr,                                         \
    "PROXY protocol headers accepted (--proxy_protocol); the connection then goes on to the "   \
    "per-address limit, with the header's address.")                                            \
  X(proxy_untrusted, "proxy_rejected", "reason", "untrusted", kProxyRejectedHelp)               \
  X(proxy_no_header, "proxy_rejected", "reason", "no_header", kProxyRejectedHelp)               \
  X(proxy_too_long, "proxy_rejected", "reason", "too_long", kProxyRejectedHelp)                 \
  X(proxy_malformed, "proxy_rejected", "reason", "malformed", kProxyRejectedHelp)               \
  X(proxy_timeout, "proxy_rejected", "reason", "timeout", kProxyRejectedHelp)                   \
  X(proxy_incomplete, "proxy_rejected", "reason", "incomplete", kProxyRejectedHelp)             \
  X(loop_miss, "loop_misses", nullptr, nullptr,                                                 \
    "Loop-lag probes that ran later than --watchdog_miss_ms after they were due (a stalled "    \
    "loop; mega-misses included).")                                                             \
  X(loop_mega_miss, "loop_mega_misses", nullptr, nullptr,                                       \
    "Loop-lag probes that ran later than --watchdog_megamiss_ms after they were due.")

// The read-size histogram: reads of 1 byte up to the largest read a worker makes (64 KiB).
inline constexpr size_t kReadSizeBuckets = 17;
using ReadSizeCounts = common::Log2Counts<kReadSizeBuckets>;

// Every histogram a worker keeps besides the read sizes (whose count and sum are counters already),
// once: the live histograms, the snapshot, sums and differences, /metrics and /stats come from
// this list. Each is a Log2Histogram: bucket i holds values in (2^(i-1), 2^i] of the recorded unit,
// and the last bucket everything above its lower bound (+Inf in /metrics). Columns:
//   name        the field, and the key in /stats
//   buckets     how many (the last is the overflow bucket)
//   family      the Prometheus family, without "reactord_", in base units (seconds, bytes)
//   unit        recorded units per base unit: 1000 for milliseconds shown as seconds
//   per_worker  true: also reactord_worker_<family>{worker="N"}; false: the process's only
//   help        the family's HELP text
#define REACTORD_WORKER_HISTOGRAMS(X)                                                            \
  X(loop_lag_us, 26, "loop_lag_seconds", 1000000, true,                                          \
    "How late each loop-lag probe ran after it was due (one every --watchdog_miss_ms/4, at "     \
    "most 50 ms): the time a ready event waits for the loop. Includes the timer's resolution "   \
    "(libevent's coarse clock, a few ms).")                                                      \
  X(connection_ms, 28, "connection_duration_seconds", 1000, false,                               \
    "How long each connection was in service, from accept (with --proxy_protocol, from the end " \
    "of its PROXY header) to close, recorded when it closes.")                                   \
  X(connection_in_bytes, 42, "connection_received_bytes", 1, false,                              \
    "Bytes read from each connection over its life, recorded when it closes.")                   \
  X(connection_out_bytes, 42, "connection_sent_bytes", 1, false,                                 \
    "Bytes written to each connection over its life, recorded when it closes.")

// Every gauge of a worker, once: the stats line (text and JSON), /stats and /metrics come from
// this list. A worker does not keep these: the supervisor's watchdog measures them from outside
// (the loop's published probe times, the listening sockets) and fills one WorkerGauges per worker.
// Columns:
//   name    the field, and the key in the stats line ("accept_queue=3 worker_accept_queue=1,2")
//   family  the Prometheus gauge, without "reactord_worker_", in base units; nullptr for the
//           interval maxima, which belong to the stats line only (Prometheus takes
//           max_over_time of the gauge instead)
//   unit    recorded units per base unit (1000: milliseconds shown as seconds)
//   merge   how the process's value comes from the workers': kSum or kMax
//   help    what it is
#define REACTORD_WORKER_GAUGES(X)                                                               \
  X(loop_stalled_ms, "loop_stalled_seconds", 1000, kMax,                                        \
    "How long the worker's loop has gone without running, now (since it last ran its loop-lag " \
    "probe), when that is past --watchdog_miss_ms; else 0.")                                    \
  X(loop_lag_max_ms, nullptr, 1000, kMax,                                                       \
    "The largest loop lag in the interval, a stall still in progress included.")                \
  X(accept_queue, "accept_queue_length", 1, kSum,                                               \
    "Connections that completed their handshake and wait in the worker's accept queue, now.")   \
  X(accept_queue_max, nullptr, 1, kMax,                                                         \
    "The longest accept queue seen in the interval (sampled at every watchdog check).")         \
  X(accept_queue_limit, "accept_queue_limit", 1, kSum,                                          \
    "The most the accept queue holds: --backlog capped by net.core.somaxconn; past it the "     \
    "kernel drops handshakes (ListenOverflows).")

// A copy of one worker's counters at one moment, or the sum or difference of several. A value type.
struct WorkerCounts {
#define REACTORD_COUNT_FIELD(name, family, label, value, help) uint64_t name = 0;
  REACTORD_WORKER_COUNTERS(REACTORD_COUNT_FIELD)
#undef REACTORD_COUNT_FIELD
  // Reads by size; their count is `reads`, their sum the bytes read (bytes_in - bytes_discarded).
  ReadSizeCounts read_sizes;
#define REACTORD_HISTOGRAM_COUNTS(name, bucket_count, family, unit, per_worker, help) \
  common::Log2Counts<bucket_count> name;
  REACTORD_WORKER_HISTOGRAMS(REACTORD_HISTOGRAM_COUNTS)
#undef REACTORD_HISTOGRAM_COUNTS

  // Open connections. Saturates: a snapshot reads its counters one by one.
  uint64_t active() const { return accepted > closed ? accepted - closed : 0; }
  WorkerCounts& operator+=(const WorkerCounts& other);
  WorkerCounts& operator-=(const WorkerCounts& other);
  friend WorkerCounts operator-(WorkerCounts a, const WorkerCounts& b) { return a -= b; }
  friend bool operator==(const WorkerCounts&, const WorkerCounts&) = default;
};

// One worker's live counters: written by that worker's thread only, read by any thread (relaxed
// loads). Cache-line aligned so that two workers never write the same line.
struct alignas(64) WorkerStats {
#define REACTORD_COUNTER_FIELD(name, family, label, value, help) common::Counter name;
  REACTORD_WORKER_COUNTERS(REACTORD_COUNTER_FIELD)
#undef REACTORD_COUNTER_FIELD
  common::Log2Buckets<kReadSizeBuckets> read_sizes;
#define REACTORD_HISTOGRAM_FIELD(name, bucket_count, family, unit, per_worker, help) \
  common::Log2Histogram<bucket_count> name;
  REACTORD_WORKER_HISTOGRAMS(REACTORD_HISTOGRAM_FIELD)
#undef REACTORD_HISTOGRAM_FIELD

  // Writer-thread-only: one read() that returned `bytes` (1..64 KiB) of data. The histogram's
  // count is the snapshot's `reads`, so a read costs two adds, not three.
  void countRead(size_t bytes) {
    bytes_in.add(bytes);
    read_sizes.recordPositiveInRange(bytes);
  }

  // Writer-thread-only: a connection that closed after `duration_ms`, having had `in` bytes read
  // from it and `out` written to it. Once per connection, off the per-message path.
  void countConnection(uint64_t duration_ms, uint64_t in, uint64_t out) {
    connection_ms.record(duration_ms);
    connection_in_bytes.record(in);
    connection_out_bytes.record(out);
  }

  // Thread-safe.
  WorkerCounts snapshot() const;
};

// One worker's memory against its share of the buffer budget, at one moment. A value type.
struct MemoryGauges {
  uint64_t share = 0;     // the worker's share of --max_buffered_bytes
  uint64_t held = 0;      // bytes its connections hold now (its MemoryAccount)
  uint64_t peak = 0;      // the most they held at once since the start
  uint64_t overload = 0;  // its overload level, 0..3 (common::overloadLevelName)
};

// One row of REACTORD_WORKER_COUNTERS, for code that walks them all.
struct CounterInfo {
  const char* key;
  const char* family;
  const char* label_name;   // or nullptr
  const char* label_value;  // or nullptr
  const char* help;
  uint64_t WorkerCounts::*member;
};

// Every row of REACTORD_WORKER_COUNTERS, in order. Any thread.
std::span<const CounterInfo> workerCounters();

// One histogram of a snapshot, whatever its number of buckets.
struct HistogramView {
  std::span<const uint64_t> buckets;  // per bucket, not cumulative
  uint64_t sum;
};

// One histogram of WorkerCounts, for code that walks them all: the read sizes, then the rows of
// REACTORD_WORKER_HISTOGRAMS.
struct HistogramInfo {
  const char* key;
  const char* family;
  uint64_t unit;
  bool per_worker;
  bool overflow_bucket;  // the last bucket holds every larger value (false: values fit)
  const char* help;
  HistogramView (*view)(const WorkerCounts&);
};

// Every histogram of WorkerCounts, in order. Any thread.
std::span<const HistogramInfo> workerHistograms();

// What the supervisor measured of one worker from outside, at one moment. A value type.
struct WorkerGauges {
#define REACTORD_GAUGE_FIELD(name, family, unit, merge, help) uint64_t name = 0;
  REACTORD_WORKER_GAUGES(REACTORD_GAUGE_FIELD)
#undef REACTORD_GAUGE_FIELD
  friend bool operator==(const WorkerGauges&, const WorkerGauges&) = default;
};

enum class GaugeMerge { kSum, kMax };

// One row of REACTORD_WORKER_GAUGES.
struct GaugeInfo {
  const char* key;
  const char* worker_key;  // "worker_" + key: the per-worker list in the stats line
  const char* family;      // or nullptr: the stats line only
  uint64_t unit;
  GaugeMerge merge;
  const char* help;
  uint64_t WorkerGauges::*member;
};

// Every row of REACTORD_WORKER_GAUGES, in order. Any thread.
std::span<const GaugeInfo> workerGauges();

// The process's gauges: each row's merge of the workers' values.
WorkerGauges mergeGauges(std::span<const WorkerGauges> workers);

}  // namespace reactord::server
