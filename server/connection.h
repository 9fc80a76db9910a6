#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "common/event.h"
#include "common/output_buffer.h"
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

  // For the protocol.
  const ConnectionContext& context() const { return context_; }
  // Sends bytes after everything sent before: straight to the socket, or behind what is pending.
  void send(const char* data, size_t size);
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
  // After the protocol handled a read: stop reading above the pending-output limit.
  void applyBackpressure() {
    if (pending_ && pending_->size() > context_.max_pending_bytes) {
      paused_ = true;
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
  // Writes pending output; resumes reading when it fell below the low-water mark.
  void flushPending();
  // All output is out: close, or shut our side and wait briefly for the peer's EOF.
  void finishOutput();
  void discardInput();

  const ConnectionContext& context_;
  std::unique_ptr<common::OutputBuffer> pending_;  // null unless a write came back short
  common::UniqueFd fd_;                            // declared before event_: closed after it
  common::Event event_;
  IpKey peer_;
  const std::chrono::steady_clock::time_point opened_;
  uint64_t received_ = 0;
  uint64_t sent_ = 0;
  uint32_t last_active_tick_ = 0;  // last byte in or out
  uint32_t write_tick_ = 0;        // last time pending output moved (or appeared)
  bool paused_ = false;            // pending output above --max_pending_bytes: not reading
  bool peer_shut_write_ = false;   // EPOLLRDHUP seen: read to EOF, a short read is not the end
  bool peer_closed_ = false;       // read() returned 0
  bool closing_ = false;           // no more input is served; close once output is out
  bool lingering_ = false;         // our side is shut; discarding input until EOF or a deadline
  bool finished_ = false;
};

}  // namespace reactord::server
