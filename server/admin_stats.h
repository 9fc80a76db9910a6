#pragma once

#include <cstdint>

#include "common/counter.h"

namespace reactord::server {

// The admin endpoint's counters, once: X(name, what it counts). The live counters, the snapshot
// and its difference come from this list; the stats line shows admin_rejected and admin_timed_out
// (when the endpoint is on), /metrics and /stats all of them.
#define REACTORD_ADMIN_COUNTERS(X)                                           \
  X(accepted, "admin connections taken into service")                        \
  X(closed, "admin connections that left service, for any reason")           \
  X(rejected, "closed at once (503): --admin_max_connections were open")     \
  X(timed_out, "closed at --admin_timeout_s before their response was sent") \
  X(accept_errors, "failed accept() calls on the admin port, EAGAIN excluded")

// A copy of the admin endpoint's counters at one moment, or the difference of two. A value type.
struct AdminCounts {
#define REACTORD_ADMIN_COUNT(name, what) uint64_t name = 0;
  REACTORD_ADMIN_COUNTERS(REACTORD_ADMIN_COUNT)
#undef REACTORD_ADMIN_COUNT

  uint64_t active() const { return accepted > closed ? accepted - closed : 0; }
  friend AdminCounts operator-(AdminCounts a, const AdminCounts& b) {
#define REACTORD_ADMIN_SUBTRACT(name, what) a.name -= b.name;
    REACTORD_ADMIN_COUNTERS(REACTORD_ADMIN_SUBTRACT)
#undef REACTORD_ADMIN_SUBTRACT
    return a;
  }
  friend bool operator==(const AdminCounts&, const AdminCounts&) = default;
};

// The admin endpoint's live counters: written by the admin thread only, read by any thread.
struct alignas(64) AdminStats {
#define REACTORD_ADMIN_COUNTER(name, what) common::Counter name;
  REACTORD_ADMIN_COUNTERS(REACTORD_ADMIN_COUNTER)
#undef REACTORD_ADMIN_COUNTER

  // Thread-safe.
  AdminCounts snapshot() const {
    AdminCounts counts;
    counts.closed = closed.get();  // before accepted, so that active() never counts one twice
#define REACTORD_ADMIN_GET(name, what) \
  if (&AdminCounts::name != &AdminCounts::closed) counts.name = name.get();
    REACTORD_ADMIN_COUNTERS(REACTORD_ADMIN_GET)
#undef REACTORD_ADMIN_GET
    return counts;
  }
};

}  // namespace reactord::server
