#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "common/event.h"
#include "common/line_framer.h"
#include "common/output_buffer.h"
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
class Connection {
 public:
  Connection(Worker& worker, common::UniqueFd fd);
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  int fd() const { return fd_.get(); }
  // For the connection histograms, read when it closes: when it was accepted, and the bytes read
  // from it (discarded ones included) and written to it.
  std::chrono::steady_clock::time_point opened() const { return opened_; }
  uint64_t receivedBytes() const { return received_; }
  uint64_t sentBytes() const { return sent_; }
  // True once the connection should be removed; the worker then destroys it.
  bool finished() const { return finished_; }
  // Called on every worker tick: enforces the idle, write-stall and message timeouts, and ends
  // lingering closes.
  void onTick(uint32_t now_tick);
  // Shutdown: one last attempt to send what is pending, then finished.
  void closeForShutdown();

 private:
  static void onEvent(int fd, short what, void* self);
  void handleEvent(short what);
  void handleReadable();
  void handleInput(const char* data, size_t size);
  void handleEof();
  // No more input will be served: answer a last unterminated message, then close after flushing.
  void finishInput();
  void discardInput();
  // Sends bytes in order: straight to the socket, or behind what is already pending.
  void send(const char* data, size_t size);
  void sendAcks(size_t count);
  // Writes pending output; resumes reading when it fell below the low-water mark.
  void flushPending();
  void closeAfterFlush();
  // All output is out: close, or shut our side and wait briefly for the peer's EOF.
  void finishOutput();
  void fail(int error);
  void resumeReading();

  Worker& worker_;
  std::unique_ptr<common::OutputBuffer> pending_;  // null unless a write came back short
  common::UniqueFd fd_;                            // declared before event_: closed after it
  common::Event event_;
  const std::chrono::steady_clock::time_point opened_;
  uint64_t received_ = 0;
  uint64_t sent_ = 0;
  uint32_t last_active_tick_ = 0;  // last byte in or out
  uint32_t write_tick_ = 0;        // last time pending output moved (or appeared)
  uint32_t message_tick_ = 0;      // ack: when the unfinished message began
  common::LineFramer framer_;
  bool paused_ = false;           // pending output above --max_pending_bytes: not reading
  bool peer_shut_write_ = false;  // EPOLLRDHUP seen: read to EOF, a short read is not the end
  bool peer_closed_ = false;      // read() returned 0
  bool closing_ = false;          // no more input is served; close once output is out
  bool lingering_ = false;        // our side is shut; discarding input until EOF or a deadline
  bool finished_ = false;
};

}  // namespace reactord::server
