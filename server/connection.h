#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "common/event.h"
#include "common/line_framer.h"
#include "common/memory_charge.h"
#include "common/output_buffer.h"
#include "common/owed_replies.h"
#include "common/unique_fd.h"

namespace reactord::server {

class Worker;

// One accepted TCP connection and its protocol state. Owned by its Worker (in the worker's table
// of connections), used only on that worker's thread, and destroyed by the worker at the end of the
// callback that finished it.
//
// The per-message path is one read and one write: a single edge-triggered event watches
// read, write and peer-close for the connection's whole life (no epoll_ctl per message), data is
// read into the worker's scratch buffer and written back at once, and an OutputBuffer exists only
// while a write has come back short. An idle connection is this object and nothing else.
//
// Memory: what a client can make a connection hold is charged to the worker's MemoryAccount, in
// a few hooks, never per message: the connection itself while it is open; its output buffer's
// storage (echo, capped at --max_pending_bytes plus one read); an estimate of the kernel's send
// queue while output is pending, and of its receive queue while reading is paused. The ack
// protocol owes its replies as a count (OwedReplies), so its pending output costs no buffer.
class Connection {
 public:
  Connection(Worker& worker, common::UniqueFd fd);
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  int fd() const { return fd_.get(); }
  // True once the connection should be removed; the worker then destroys it.
  bool finished() const { return finished_; }
  // Called on every worker tick: enforces the idle, write-stall and message timeouts, and ends
  // lingering closes.
  void onTick(uint32_t now_tick);
  // Shutdown: one last attempt to send what is pending, then finished.
  void closeForShutdown();
  // Overload: finished, and closed with a reset, so that the kernel drops what it holds for the
  // socket at once instead of trying to deliver it to a peer that does not read.
  void abort();
  // For the overload close action: whether output waits for the peer, how long it has not moved,
  // and the bytes charged for this connection.
  bool holdsOutput() const { return output_pending_; }
  uint32_t stalledTicks(uint32_t now_tick) const {
    return output_pending_ ? now_tick - write_tick_ : 0;
  }
  uint64_t charged() const { return charge_.bytes(); }

 private:
  static void onEvent(int fd, short what, void* self);
  void handleEvent(short what);
  void handleReadable();
  void handleInput(const char* data, size_t size);
  void handleEof();
  // No more input will be served: answer a last unterminated message, then close after flushing.
  void finishInput();
  void discardInput();
  // Writes what the socket takes of `data` now: the bytes written, or -1 after a failure (the
  // connection is finished then).
  ssize_t writeNow(const char* data, size_t size);
  // echo: sends bytes in order: straight to the socket, or behind what is already pending.
  void send(const char* data, size_t size);
  // ack: `count` replies, then (sendLast) a last line, likewise.
  void sendAcks(size_t count);
  void sendLast(std::string_view line);
  // Output now waits for the peer (the hooks that charge the kernel's send queue), or no longer.
  void holdOutput();
  void releaseOutput();
  size_t pendingBytes() const { return pending_ ? pending_->size() : owed_.bytes(); }
  // Writes pending output; resumes reading when it fell below the low-water mark.
  void flushPending();
  // ack: writes owed replies until the socket is full; false after a failure.
  bool flushOwed();
  // Stops / resumes reading (backpressure or overload), with the receive-queue charge.
  void pause();
  void resume();
  void closeAfterFlush();
  // All output is out: close, or shut our side and wait briefly for the peer's EOF.
  void finishOutput();
  void fail(int error);

  Worker& worker_;
  common::MemoryCharge charge_;  // declared before pending_, whose storage it counts
  std::unique_ptr<common::OutputBuffer> pending_;  // echo: null unless a write came back short
  common::OwedReplies owed_;                       // ack: replies not written yet
  common::UniqueFd fd_;                            // declared before event_: closed after it
  common::Event event_;
  uint32_t last_active_tick_ = 0;  // last byte in or out
  uint32_t write_tick_ = 0;        // last time pending output moved (or appeared)
  uint32_t message_tick_ = 0;      // ack: when the unfinished message began
  uint32_t receive_charge_ = 0;    // charged for the kernel's receive queue while paused
  common::LineFramer framer_;
  bool output_pending_ = false;   // a write came back short: pending_ or owed_ holds output
  bool paused_ = false;           // pending output above Worker::pauseAbove(): not reading
  bool peer_shut_write_ = false;  // EPOLLRDHUP seen: read to EOF, a short read is not the end
  bool peer_closed_ = false;      // read() returned 0
  bool closing_ = false;          // no more input is served; close once output is out
  bool lingering_ = false;        // our side is shut; discarding input until EOF or a deadline
  bool finished_ = false;
};

}  // namespace reactord::server
