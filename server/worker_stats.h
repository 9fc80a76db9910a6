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
  X(proxy_accepted, "proxy_accepted", nullptr, nullptr,                                         \
    "PROXY protocol headers accepted (--proxy_protocol); the connection then goes on to the "   \
    "per-address limit, with the header's address.")                                            \
  X(proxy_untrusted, "proxy_rejected", "reason", "untrusted", kProxyRejectedHelp)               \
  X(proxy_no_header, "proxy_rejected", "reason", "no_header", kProxyRejectedHelp)               \
  X(proxy_too_long, "proxy_rejected", "reason", "too_long", kProxyRejectedHelp)                 \
  X(proxy_malformed, "proxy_rejected", "reason", "malformed", kProxyRejectedHelp)               \
  X(proxy_timeout, "proxy_rejected", "reason", "timeout", kProxyRejectedHelp)                   \
  X(proxy_incomplete, "proxy_rejected", "reason", "incomplete", kProxyRejectedHelp)

// The read-size histogram: reads of 1 byte up to the largest read a worker makes (64 KiB).
inline constexpr size_t kReadSizeBuckets = 17;
using ReadSizeCounts = common::Log2Counts<kReadSizeBuckets>;

// A copy of one worker's counters at one moment, or the sum or difference of several. A value type.
struct WorkerCounts {
#define REACTORD_COUNT_FIELD(name, family, label, value, help) uint64_t name = 0;
  REACTORD_WORKER_COUNTERS(REACTORD_COUNT_FIELD)
#undef REACTORD_COUNT_FIELD
  // Reads by size; their count is `reads`, their sum the bytes read (bytes_in - bytes_discarded).
  ReadSizeCounts read_sizes;

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

  // Writer-thread-only: one read() that returned `bytes` (1..64 KiB) of data. The histogram's
  // count is the snapshot's `reads`, so a read costs two adds, not three.
  void countRead(size_t bytes) {
    bytes_in.add(bytes);
    read_sizes.recordPositiveInRange(bytes);
  }

  // Thread-safe.
  WorkerCounts snapshot() const;
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

}  // namespace reactord::server
