#include "server/connection.h"

#include <glog/logging.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <string_view>

#include "common/raw_io.h"
#include "server/worker.h"

namespace reactord::server {
namespace {

constexpr std::string_view kAck = "Message received\n";
constexpr std::string_view kTooLong = "ERR message too long\n";
constexpr std::string_view kMessageTimeout = "ERR message timeout\n";
// Reads per readiness event before yielding to the other connections of the worker.
constexpr int kReadsPerEvent = 4;
// How long a connection we have finished with may wait for its peer's EOF (lingering close, so
// that our last reply is not destroyed by a reset), in worker ticks.
constexpr uint32_t kLingerTicks = 2 * Worker::kTicksPerSecond;

// Charged for every open connection: this object and its slot in the worker's table (about 0.4
// KiB, measured: 4,000 idle connections added 1.45 MB to a cgroup v1's usage here) and the
// kernel's socket, file and epoll structures (about 3.5 KiB, which cgroup v2 charges too).
constexpr uint64_t kConnectionBytes = 4096;
// Charged while output is pending: the kernel's send queue of a peer that does not read holds
// TCP_NOTSENT_LOWAT of unsent bytes plus the segment in progress (64 KiB on loopback).
constexpr uint64_t kSendQueueBytes = Worker::kNotSentLowatBytes + 64 * 1024;
// Under memory pressure a paused connection's receive buffer is clamped to this (the kernel
// doubles it); its queue then holds at most that, the segment in progress and what was already
// in flight: 57 KiB measured on loopback, charged as 96 KiB.
constexpr int kPausedReceiveBuffer = 16 * 1024;
constexpr uint32_t kPausedReceiveBytes = 96 * 1024;

// kAck repeated Worker::kAckReadBytes times: a read's acknowledgements are one write.
const char* ackBatch() {
  static const std::string batch = [] {
    std::string text;
    text.reserve(kAck.size() * Worker::kAckReadBytes);
    for (size_t i = 0; i < Worker::kAckReadBytes; ++i) {
      text += kAck;
    }
    return text;
  }();
  return batch.data();
}

// What owed acknowledgements are written from.
const common::RepeatedReply& ackReply() {
  static const common::RepeatedReply reply{kAck, ackBatch(), Worker::kAckReadBytes};
  return reply;
}

ssize_t sendSome(int fd, const char* data, size_t size) {
  ssize_t n;
  do {
    n = common::rawSend(fd, data, size);
  } while (n < 0 && errno == EINTR);
  return n;
}

}  // namespace

Connection::Connection(Worker& worker, common::UniqueFd fd)
    : worker_(worker),
      charge_(worker.account(), kConnectionBytes),
      owed_(ackReply()),
      fd_(std::move(fd)),
      last_active_tick_(worker.tick()) {
  ackBatch();  // built once, on first use (by ackReply() above), off the per-message path
  event_.assign(worker.base(), fd_.get(), EV_READ | EV_WRITE | EV_CLOSED | EV_ET | EV_PERSIST,
                &Connection::onEvent, this);
  event_.add();
}

void Connection::onEvent(int /*fd*/, short what, void* self) {
  auto* connection = static_cast<Connection*>(self);
  connection->handleEvent(what);
  if (connection->finished_) {
    connection->worker_.removeConnection(connection->fd());  // destroys it
  }
}

void Connection::handleEvent(short what) {
  if ((what & EV_WRITE) && output_pending_) {
    flushPending();
    if (finished_) {
      return;
    }
  }
  if (what & EV_CLOSED) {
    peer_shut_write_ = true;
  }
  if (what & (EV_READ | EV_CLOSED)) {
    handleReadable();
  }
}

void Connection::handleReadable() {
  if (lingering_) {
    discardInput();
    return;
  }
  if (paused_ || closing_) {
    return;  // the data waits in the kernel; TCP flow control pushes back on the client
  }
  char* const buffer = worker_.scratch();
  const size_t capacity = worker_.readSize();
  for (int i = 0; i < kReadsPerEvent; ++i) {
    const ssize_t n = common::rawRead(fd(), buffer, capacity);
    if (n > 0) {
      worker_.stats().countRead(n);
      last_active_tick_ = worker_.tick();
      handleInput(buffer, n);
      if (paused_ || closing_ || finished_) {
        return;
      }
      // Edge-triggered: a short read emptied the socket, and new data brings a new edge. After
      // the peer shut its side, read on to see the EOF, which brings no edge of its own.
      if (static_cast<size_t>(n) < capacity && !peer_shut_write_) {
        return;
      }
    } else if (n == 0) {
      handleEof();
      return;
    } else if (errno != EINTR) {
      if (errno != EAGAIN) {
        fail(errno);
      }
      return;
    }
  }
  event_.activate(EV_READ);  // more may be waiting: come back after the other connections
}

void Connection::handleInput(const char* data, size_t size) {
  const ServerOptions& options = worker_.options();
  if (options.protocol == Protocol::kEcho) {
    send(data, size);
  } else {
    const size_t partial_before = framer_.partialBytes();
    const common::LineFramer::Scan scan = framer_.feed(data, size, options.max_message_bytes);
    if (framer_.partialBytes() > 0 && (scan.complete > 0 || partial_before == 0)) {
      message_tick_ = worker_.tick();  // a new message began in this chunk
    }
    sendAcks(scan.complete);
    if (scan.too_long) {
      worker_.stats().too_long.add();
      VLOG(1) << "fd " << fd() << ": message over " << options.max_message_bytes << " bytes";
      sendLast(kTooLong);
      closeAfterFlush();
      return;
    }
  }
  if (options.oneshot) {
    finishInput();  // the tutorial server: one read, answered as if the client had half-closed
    return;
  }
  if (output_pending_ && pendingBytes() > worker_.pauseAbove()) {
    pause();
  }
}

void Connection::handleEof() {
  peer_closed_ = true;
  finishInput();
}

void Connection::finishInput() {
  if (worker_.options().protocol == Protocol::kAck && framer_.partialBytes() > 0) {
    sendAcks(1);  // a last message without its '\n'
  }
  closeAfterFlush();
}

// Inlined into every caller: it is half of the per-message path (a call would cost about 20
// instructions per message, measured with callgrind).
[[gnu::always_inline]] inline ssize_t Connection::writeNow(const char* data, size_t size) {
  ssize_t n = sendSome(fd(), data, size);
  if (n < 0) {
    if (errno != EAGAIN) {
      fail(errno);
      return -1;
    }
    n = 0;
  }
  worker_.stats().bytes_out.add(n);
  return n;
}

void Connection::sendAcks(size_t count) {
  if (count == 0) {
    return;
  }
  worker_.stats().messages.add(count);
  if (finished_) {
    return;
  }
  if (output_pending_) {
    // Behind what waits; the socket is full until an EV_WRITE edge. The count stays far below
    // 2^32: reading pauses past --max_pending_bytes (at most 1 GiB, 63 million replies).
    owed_.add(static_cast<uint32_t>(count));
    return;
  }
  DCHECK_LE(count, Worker::kAckReadBytes) << "one read holds at most this many lines";
  const size_t size = count * kAck.size();
  const ssize_t n = writeNow(ackBatch(), size);
  if (n >= 0 && static_cast<size_t>(n) < size) {
    owed_.add(static_cast<uint32_t>(count));
    owed_.consume(n);
    holdOutput();
  }
}

void Connection::sendLast(std::string_view line) {
  if (finished_) {
    return;
  }
  if (output_pending_) {
    owed_.setLast(line);
    return;
  }
  const ssize_t n = writeNow(line.data(), line.size());
  if (n >= 0 && static_cast<size_t>(n) < line.size()) {
    owed_.setLast(line.substr(n));
    holdOutput();
  }
}

void Connection::send(const char* data, size_t size) {
  if (finished_) {
    return;
  }
  if (output_pending_) {
    pending_->append(data, size);  // behind what waits; the socket is full until an EV_WRITE edge
    return;
  }
  const ssize_t n = writeNow(data, size);
  if (n >= 0 && static_cast<size_t>(n) < size) {
    pending_ = std::make_unique<common::OutputBuffer>(worker_.maxPendingCapacity(), &charge_);
    pending_->append(data + n, size - n);
    holdOutput();
  }
}

void Connection::holdOutput() {
  output_pending_ = true;
  write_tick_ = worker_.tick();
  charge_.add(kSendQueueBytes);
}

void Connection::releaseOutput() {
  output_pending_ = false;
  pending_.reset();  // gives its storage back to the charge
  charge_.remove(kSendQueueBytes);
}

void Connection::flushPending() {
  if (pending_) {
    const ssize_t n = writeNow(pending_->data(), pending_->size());
    if (n < 0) {
      return;
    }
    if (n > 0) {
      last_active_tick_ = write_tick_ = worker_.tick();
    }
    pending_->consume(n);  // a short write means the socket is full again: wait for the next edge
  } else if (!flushOwed()) {
    return;
  }
  if (pending_ ? pending_->empty() : owed_.empty()) {
    releaseOutput();
  }
  if (paused_ && (!output_pending_ || pendingBytes() <= worker_.options().max_pending_bytes / 2)) {
    resume();
  }
  if (!output_pending_ && closing_ && !lingering_) {
    finishOutput();
  }
}

bool Connection::flushOwed() {
  while (!owed_.empty()) {
    const std::string_view chunk = owed_.next();
    const ssize_t n = writeNow(chunk.data(), chunk.size());
    if (n < 0) {
      return false;
    }
    if (n > 0) {
      last_active_tick_ = write_tick_ = worker_.tick();
    }
    owed_.consume(n);
    if (static_cast<size_t>(n) < chunk.size()) {
      break;  // the socket is full again: wait for the next edge
    }
  }
  return true;
}

void Connection::pause() {
  paused_ = true;
  if (worker_.underPressure()) {
    // Memory is short: what the client sends while we do not read should cost little. Locks the
    // buffer's size for the rest of the connection.
    const int size = kPausedReceiveBuffer;
    setsockopt(fd(), SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    receive_charge_ = kPausedReceiveBytes;
  } else {
    int size = 0;
    socklen_t length = sizeof size;
    if (getsockopt(fd(), SOL_SOCKET, SO_RCVBUF, &size, &length) == 0 && size > 0) {
      receive_charge_ = static_cast<uint32_t>(size);  // the queue fills up to it while paused
    }
  }
  charge_.add(receive_charge_);
}

void Connection::resume() {
  paused_ = false;
  charge_.remove(receive_charge_);
  receive_charge_ = 0;
  event_.activate(EV_READ);  // the edge for the waiting data has passed: read now
}

void Connection::closeAfterFlush() {
  if (closing_ || finished_) {
    return;
  }
  closing_ = true;
  if (!output_pending_) {
    finishOutput();
  }
}

void Connection::finishOutput() {
  if (peer_closed_) {
    finished_ = true;
    return;
  }
  // The peer may still be sending: closing now would answer its data with a reset that can
  // destroy our last reply before it reads it. Shut our side and discard until its EOF.
  ::shutdown(fd(), SHUT_WR);
  lingering_ = true;
  last_active_tick_ = worker_.tick();
  discardInput();
}

void Connection::discardInput() {
  char* const buffer = worker_.scratch();
  for (int i = 0; i < kReadsPerEvent; ++i) {
    const ssize_t n = ::read(fd(), buffer, Worker::kScratchBytes);
    if (n > 0) {
      worker_.stats().bytes_in.add(n);
      worker_.stats().bytes_discarded.add(n);
    } else if (n == 0) {
      finished_ = true;  // the peer's EOF: now the close is clean
      return;
    } else if (errno != EINTR) {
      finished_ = errno != EAGAIN;
      return;
    }
  }
  event_.activate(EV_READ);
}

void Connection::fail(int error) {
  worker_.stats().conn_errors.add();
  if (error == ECONNRESET || error == EPIPE || error == ETIMEDOUT) {
    VLOG(1) << "fd " << fd() << ": " << std::strerror(error);
  } else {
    LOG_EVERY_T(WARNING, 1) << "connection error on fd " << fd() << ": " << std::strerror(error);
  }
  finished_ = true;
}

void Connection::onTick(uint32_t now_tick) {
  const uint32_t quiet_ticks = now_tick - last_active_tick_;
  if (lingering_) {
    finished_ = quiet_ticks >= kLingerTicks;
    return;
  }
  const uint32_t idle_ticks = worker_.idleTimeoutTicks();
  const uint32_t write_ticks = worker_.writeTimeoutTicks();
  const uint32_t message_ticks = worker_.messageTimeoutTicks();
  if (idle_ticks != 0 && quiet_ticks >= idle_ticks) {
    worker_.stats().idle_closed.add();
    finished_ = true;
  } else if (write_ticks != 0 && output_pending_ && now_tick - write_tick_ >= write_ticks) {
    worker_.stats().write_timeout_closed.add();
    finished_ = true;  // the peer stopped reading: nothing more can be sent
  } else if (message_ticks != 0 && !closing_ && framer_.partialBytes() > 0 &&
             now_tick - message_tick_ >= message_ticks) {
    worker_.stats().message_timeout_closed.add();
    sendLast(kMessageTimeout);
    closeAfterFlush();
  }
}

void Connection::closeForShutdown() {
  if (pending_) {
    sendSome(fd(), pending_->data(), pending_->size());  // best effort, never blocks
  } else if (!owed_.empty()) {
    const std::string_view chunk = owed_.next();
    sendSome(fd(), chunk.data(), chunk.size());
  }
  finished_ = true;
}

void Connection::abort() {
  const linger reset{1, 0};
  setsockopt(fd(), SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
  finished_ = true;
}

}  // namespace reactord::server
