#pragma once

#include <event2/event.h>
#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <thread>

#include "client/reactor_bench/bench_counters.h"
#include "client/reactor_bench/bench_options.h"
#include "client/reactor_bench/latency_histogram.h"
#include "client/reactor_bench/payload.h"
#include "client/reactor_bench/send_times.h"
#include "common/event.h"
#include "common/unique_fd.h"

namespace reactord::client {

class BenchConnection;

// What a connection asks of the worker that owns it. Implemented by BenchWorker; called on the
// worker's thread, from inside the connection's callbacks, so it only queues work.
class ConnectionOwner {
 public:
  // Start `connection` again at `at_ns` or later.
  virtual void requestStart(BenchConnection* connection, int64_t at_ns) = 0;
  // A connect attempt finished, either way: another one may begin.
  virtual void connectSettled() = 0;

 protected:
  ~ConnectionOwner() = default;
};

// What the connections of one worker share. Owned by the worker, used on its thread only.
struct BenchContext {
  event_base* base = nullptr;
  std::thread::id loop_thread;  // the only thread that may touch the connections
  const BenchOptions* options = nullptr;
  const Payload* requests = nullptr;  // the stream sent
  const Payload* replies = nullptr;   // the stream expected back
  size_t request_bytes = 0;           // one message as sent
  size_t reply_bytes = 0;             // its whole reply
  size_t window = 1;                  // messages in flight per connection (pingpong, bulk)
  size_t stall_chunk_bytes = 0;       // mode=stall: bytes per write
  BenchCounters* counters = nullptr;
  LatencyHistogram* histogram = nullptr;
  ConnectionOwner* owner = nullptr;
  char* read_buffer = nullptr;  // scratch for every read; smaller than a Payload period
  size_t read_buffer_size = 0;
  bool measuring = false;  // inside the measured window: latencies are recorded
  bool draining = false;   // no new messages and no new connections
};

// One connection slot of the load generator: connects, sends messages whose bytes follow a
// Payload stream, checks every byte that comes back, records each reply's latency, and on any
// error counts it, closes and (except in mode=idle) starts again after a short pause. Owns its
// socket and its two events. Lives on its worker's thread; the worker creates it, keeps it for the
// whole run, and destroys it before its event_base.
class BenchConnection {
 public:
  BenchConnection(BenchContext& context, uint32_t id) : context_(context), id_(id) {}
  BenchConnection(const BenchConnection&) = delete;
  BenchConnection& operator=(const BenchConnection&) = delete;

  // Every public method is loop-thread-only (DCHECKed).

  // Opens a new connection; the slot must be closed.
  void start(int64_t now);
  // mode=rate: one more message, intended at `intended_ns` (its latency counts from then). Sent
  // at once when open, when connected if connecting; dropped when closed (the error that closed
  // it was counted).
  void sendAt(int64_t intended_ns, int64_t now);
  // No new messages: half-closes once the replies in flight arrived. A connect in progress is
  // abandoned.
  void drain(int64_t now);
  // Counts a timeout (or failed connect) and closes when the oldest message, the connect or the
  // wait for the server's close is older than --timeout_ms.
  void checkTimeout(int64_t now);
  bool closed() const { return state_ == State::kClosed; }

 private:
  enum class State { kClosed, kConnecting, kOpen, kClosing };
  enum class Failure { kMismatch, kReset, kTimeout, kConnect };
  static constexpr int64_t kRetryDelayNs = 100'000'000;

  static void onReadableThunk(evutil_socket_t, short, void* self) {
    static_cast<BenchConnection*>(self)->onReadable();
  }
  static void onWritableThunk(evutil_socket_t, short, void* self) {
    static_cast<BenchConnection*>(self)->onWritable();
  }
  void onReadable();
  void onWritable();
  // mode=stall: writes chunks while the socket takes them (a bounded number per event).
  void flushStall(int64_t now);
  // mode=stall: the server closed the connection (its overload action): counted, not an error.
  void closedByServer(int64_t now);
  void onConnected(int64_t now);
  void onEndOfStream(int64_t now);
  // Queues one message whose latency counts from `start_ns`; flush() sends it.
  void queue(int64_t start_ns);
  // Writes what is queued, after the PROXY header if one is still unsent; arms the write event
  // when the socket is full. False when it failed (the connection is closed then).
  bool flush(int64_t now);
  // One send(): the bytes written; 0 when the socket is full (the write event is armed then); -1
  // when it failed (counted, and the connection closed).
  ssize_t sendSome(const char* data, size_t size, int64_t now);
  bool verify(const char* data, size_t size) const;
  void complete(uint64_t replies, int64_t now);
  // What the mode does once replies arrived: more messages, a half-close, nothing.
  void afterReplies(int64_t now);
  void halfClose(int64_t now);
  void fail(Failure failure, int64_t now, int error_number);
  // The state of both streams, for the log line of a failure.
  std::string describeStreams() const;
  void closeSocket();
  void armWrite(bool on);

  BenchContext& context_;
  const uint32_t id_;
  uint32_t generation_ = 0;  // connections made by this slot so far
  State state_ = State::kClosed;
  bool settled_ = false;  // mode=idle: verified or given up on
  bool write_armed_ = false;
  common::UniqueFd fd_;  // declared before the events, which are removed first
  common::Event read_event_;
  common::Event write_event_;
  std::string proxy_header_;  // sent before the first message (--proxy_header)
  size_t proxy_header_sent_ = 0;
  uint64_t tx_start_ = 0;   // where this connection's streams begin in the payloads
  uint64_t tx_offset_ = 0;  // bytes written
  uint64_t tx_target_ = 0;  // bytes queued (written or not)
  uint64_t rx_offset_ = 0;  // bytes received and verified
  int64_t state_since_ = 0;
  int64_t connect_started_ = 0;
  SendTimes send_times_;  // one per message queued and not answered yet
};

}  // namespace reactord::client
