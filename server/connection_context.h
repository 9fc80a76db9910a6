#pragma once

#include <event2/event.h>

#include <cstddef>
#include <cstdint>

#include "common/memory_account.h"
#include "server/worker_stats.h"

namespace reactord::server {

class Connection;

// The clock of a worker's connections: a tick counter that the worker advances this often. Idle,
// write-stall, message and linger timeouts are counted in ticks.
inline constexpr uint32_t kTicksPerSecond = 4;
// The scratch buffer every read of a worker lands in: the largest read (echo).
inline constexpr size_t kScratchBytes = size_t{64} * 1024;
// TCP_NOTSENT_LOWAT of the listeners, inherited by every connection: the kernel takes no more
// unsent bytes than this (plus the segment in progress) into a socket's send queue, so a client
// that stops reading pins this much kernel memory instead of the send buffer's autotuned size
// (4 MiB here). Bytes in flight are not limited, so throughput is not.
inline constexpr int kNotSentLowatBytes = 64 * 1024;

// Who owns a worker's connections, as a connection sees it: told once, at the end of the callback
// in which the connection finished, so that it destroys it there. Loop-thread-only.
class ConnectionOwner {
 public:
  virtual void connectionFinished(Connection& connection) = 0;

 protected:
  ~ConnectionOwner() = default;
};

// Timeouts in ticks; 0 = off.
struct ConnectionTimeouts {
  uint32_t idle_ticks = 0;     // no byte in or out
  uint32_t write_ticks = 0;    // pending output has not moved
  uint32_t message_ticks = 0;  // ack: a message unfinished while the server was reading
};

// Everything a connection needs from its worker, built once by the worker and shared by all of its
// connections: they hold a reference, the worker outlives them. Loop-thread-only, like the
// connections.
struct ConnectionContext {
  event_base* base = nullptr;
  char* scratch = nullptr;  // kScratchBytes; its contents live only during one callback
  WorkerStats* stats = nullptr;
  const uint32_t* tick = nullptr;  // the worker's clock
  ConnectionTimeouts timeouts;
  size_t max_pending_bytes = 0;  // backpressure: stop reading above it, resume below half
  size_t max_message_bytes = 0;  // ack
  bool oneshot = false;          // answer the first read as if the client had half-closed
  ConnectionOwner* owner = nullptr;
  // Memory: the worker's account, which every connection charges for what it holds; the pending
  // output above which a connection stops being read (max_pending_bytes; 0 once the worker is
  // under memory pressure, so that any connection holding output stops); and the most an output
  // buffer's storage grows to (max_pending_bytes and one read).
  common::MemoryAccount* account = nullptr;
  size_t pause_above = 0;
  size_t max_buffer_capacity = 0;

  uint32_t now() const { return *tick; }
  bool underPressure() const { return account->level() > 0; }
};

}  // namespace reactord::server
