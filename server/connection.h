#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "common/event.h"
#include "common/memory_charge.h"
#include "common/output_buffer.h"
#include "common/owed_replies.h"
#include "common/unique_fd.h"
#include "server/connection_context.h"
#include "server/per_ip_limit.h"

namespace reactord::server {

// One accepted TCP connection: the transport, without the protocol. It owns the socket and does
// the reads, the writes, the output that the socket has not taken yet (pending), backpressure,
// half-close, the lingering close, and the idle and write-stall timeouts. What to answer is the
// protocol's business: ProtocolConnection<P> (protocol_connection.h) reads and hands the bytes to a
// protocol P, which answers through send() and closeAfterFlush().
//
// Owned by its worker (in the worker's table), used only on that worker's thread, and destroyed by
// the worker at the end of the callback that finished it (ConnectionOwner::connectionFinished) or
// of the tick that did.
//
// The per-message path is one read and one write: a single edge-triggered event watches read,
// write and peer-close for the connection's whole life (no epoll_ctl per message), data is read
// into the worker's scratch buffer and written back at once, and an OutputBuffer exists only while
// a write has come back short. An idle connection is this object and nothing else.
//
// Memory: what a client can make a connection hold is charged to the worker's MemoryAccount in a
// few hooks, never per message: the connection itself while it is open; its output buffer's
// storage (capped at --max_pending_bytes plus one read); an estimate of the kernel's send queue
// while output waits, and of its receive queue while reading is paused. Replies that are all the
// same text are owed as a count (sendReplies, OwedReplies): such pending output costs no buffer.
class Connection {
 public:
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  virtual ~Connection() = default;

  int fd() const { return fd_.get(); }
  // The client's address, as the per-address limit counts it.
  const IpKey& peer() const { return peer_; }
  // For the connection histograms, read when it closes: when it was accepted, and the bytes read
  // from it (discarded ones included) and written to it.
  std::chrono::steady_clock::time_point opened() const { return opened_; }
  uint64_t receivedBytes() const { return received_; }
  uint64_t sentBytes() const { return sent_; }
  // True once the connection should be removed; its owner then destroys it.
  bool finished() const { return finished_; }
  // Called on every tick of the worker's clock: the idle, write-stall and protocol timeouts, and
  // the end of a lingering close.
  virtual void onTick(uint32_t now_tick) = 0;
  // Shutdown: one last attempt to send what is pending (never blocks), then finished.
  void closeForShutdown();
  // Memory overload: finished, and closed with a reset, so that the kernel drops what it holds
  // for the socket at once instead of trying to deliver it to a peer that does not read.
  void abort();
  // For the overload close action: whether output waits for the peer, how long it has not moved,
  // and the bytes charged for this connection.
  bool holdsOutput() const { return output_pending_; }
  uint32_t stalledTicks(uint32_t now_tick) const {
    return output_pending_ ? now_tick - write_tick_ : 0;
  }
  uint64_t charged() const { return charge_.bytes(); }

  // For the protocol.
  const ConnectionContext& context() const { return context_; }
  // Sends bytes after everything sent before: straight to the socket, or behind what is pending.
  // Not after sendReplies() (a connection sends bytes or replies, not both).
  void send(const char* data, size_t size);
  // Sends `count` copies of `reply`'s text after those sent before, owing what the socket does
  // not take as a count; `reply` stays the same for the life of the connection.
  void sendReplies(const common::RepeatedReply& reply, size_t count);
  // A last line (static storage) after everything sent before; nothing may follow it.
  void sendLast(std::string_view line);
  // No more input is served: close once the output is out (after a lingering wait for the peer's
  // EOF, so that a reset cannot destroy the last reply).
  void closeAfterFlush();
  // True while the server takes input from the socket: not paused by backpressure, not closing.
  bool reading() const { return !paused_ && !closing_ && !finished_; }

 protected:
  // Reads per readiness event before yielding to the other connections of the worker.
  static constexpr int kReadsPerEvent = 4;

  // `callback` is the libevent callback of the concrete connection, with `this` as its argument.
  Connection(const ConnectionContext& context, common::UniqueFd fd, const IpKey& peer,
             event_callback_fn callback);

  // The transport's half of a readiness event: flushes pending output on EV_WRITE. False when
  // there is nothing to read (the connection finished, or it is closing or lingering).
  bool prepareRead(short what);
  // After a read that returned data: the worker's clock and counters.
  void countRead(size_t bytes) {
    context_.stats->countRead(bytes);
    received_ += bytes;
    last_active_tick_ = context_.now();
  }
  // After the protocol handled a read: stop reading above the pending-output limit (any pending
  // output under memory pressure).
  void applyBackpressure() {
    if (output_pending_ && pendingBytes() > context_.pause_above) {
      pause();
    }
  }
  // The peer's EOF (read() returned 0).
  void onPeerClosed() { peer_closed_ = true; }
  bool peerShutWrite() const { return peer_shut_write_; }
  bool closing() const { return closing_; }
  // A read failed with `error` (not EAGAIN).
  void fail(int error);
  // Edge-triggered reads stop after a few per event: come back to this connection later.
  void readAgainLater() { event_.activate(EV_READ); }
  // The transport's timeouts; true when one of them ended (or is ending) the connection.
  bool transportTimeouts(uint32_t now_tick);

 private:
  // Writes what the socket takes of `data` now: the bytes written, or -1 after a failure (the
  // connection is finished then).
  ssize_t writeNow(const char* data, size_t size);
  // Output now waits for the peer (the hooks that charge the kernel's send queue), or no longer.
  void holdOutput();
  void releaseOutput();
  size_t pendingBytes() const { return pending_ ? pending_->size() : owed_.bytes(); }
  // Writes pending output; resumes reading when it fell below the low-water mark.
  void flushPending();
  // Writes owed replies until the socket is full; false after a failure.
  bool flushOwed();
  // Stops / resumes reading (backpressure or memory pressure), with the receive-queue charge.
  void pause();
  void resume();
  // All output is out: close, or shut our side and wait briefly for the peer's EOF.
  void finishOutput();
  void discardInput();

  const ConnectionContext& context_;
  common::MemoryCharge charge_;  // declared before pending_, whose storage it counts
  std::unique_ptr<common::OutputBuffer> pending_;  // bytes: null unless a write came back short
  common::OwedReplies owed_;                       // replies not written yet
  common::UniqueFd fd_;                            // declared before event_: closed after it
  common::Event event_;
  IpKey peer_;
  const std::chrono::steady_clock::time_point opened_;
  uint64_t received_ = 0;
  uint64_t sent_ = 0;
  uint32_t last_active_tick_ = 0;  // last byte in or out
  uint32_t write_tick_ = 0;        // last time pending output moved (or appeared)
  uint32_t receive_charge_ = 0;    // charged for the kernel's receive queue while paused
  bool output_pending_ = false;    // a write came back short: pending_ or owed_ holds output
  bool paused_ = false;            // pending output above context.pause_above: not reading
  bool peer_shut_write_ = false;   // EPOLLRDHUP seen: read to EOF, a short read is not the end
  bool peer_closed_ = false;       // read() returned 0
  bool closing_ = false;           // no more input is served; close once output is out
  bool lingering_ = false;         // our side is shut; discarding input until EOF or a deadline
  bool finished_ = false;
};

}  // namespace reactord::server
