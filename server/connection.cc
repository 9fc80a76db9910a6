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
#include "common/wire_protocol.h"
#include "server/worker.h"

namespace reactord::server {
namespace {

using common::kAckReply;
// Reads per readiness event before yielding to the other connections of the worker.
constexpr int kReadsPerEvent = 4;
// How long a connection we have finished with may wait for its peer's EOF (lingering close, so
// that our last reply is not destroyed by a reset), in worker ticks.
constexpr uint32_t kLingerTicks = 2 * Worker::kTicksPerSecond;

// kAckReply repeated Worker::kAckReadBytes times: a read's acknowledgements are one write.
const char* ackBatch() {
  static const std::string batch = [] {
    std::string text;
    text.reserve(kAckReply.size() * Worker::kAckReadBytes);
    for (size_t i = 0; i < Worker::kAckReadBytes; ++i) {
      text += kAckReply;
    }
    return text;
  }();
  return batch.data();
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
      fd_(std::move(fd)),
      opened_(std::chrono::steady_clock::now()),
      last_active_tick_(worker.tick()) {
  ackBatch();  // built once, on first use, off the per-message path
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
  if ((what & EV_WRITE) && pending_) {
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
      received_ += n;
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
      send(common::kTooLongReply.data(), common::kTooLongReply.size());
      closeAfterFlush();
      return;
    }
  }
  if (options.oneshot) {
    finishInput();  // the tutorial server: one read, answered as if the client had half-closed
    return;
  }
  if (pending_ && pending_->size() > options.max_pending_bytes) {
    paused_ = true;
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

void Connection::sendAcks(size_t count) {
  if (count == 0) {
    return;
  }
  worker_.stats().messages.add(count);
  while (count > 0 && !finished_) {
    const size_t batch = std::min(count, Worker::kAckReadBytes);
    send(ackBatch(), batch * kAckReply.size());
    count -= batch;
  }
}

void Connection::send(const char* data, size_t size) {
  if (finished_) {
    return;
  }
  if (pending_) {
    pending_->append(data, size);  // behind what waits; the socket is full until an EV_WRITE edge
    return;
  }
  ssize_t n = sendSome(fd(), data, size);
  if (n < 0) {
    if (errno != EAGAIN) {
      fail(errno);
      return;
    }
    n = 0;
  }
  worker_.stats().bytes_out.add(n);
  sent_ += n;
  if (static_cast<size_t>(n) < size) {
    write_tick_ = worker_.tick();
    pending_ = std::make_unique<common::OutputBuffer>();
    pending_->append(data + n, size - n);
  }
}

void Connection::flushPending() {
  const ssize_t n = sendSome(fd(), pending_->data(), pending_->size());
  if (n < 0) {
    if (errno != EAGAIN) {
      fail(errno);
    }
    return;
  }
  worker_.stats().bytes_out.add(n);
  sent_ += n;
  if (n > 0) {
    last_active_tick_ = write_tick_ = worker_.tick();
  }
  pending_->consume(n);  // a short write means the socket is full again: wait for the next edge
  if (pending_->empty()) {
    pending_.reset();
  }
  if (paused_ && (!pending_ || pending_->size() <= worker_.options().max_pending_bytes / 2)) {
    paused_ = false;
    event_.activate(EV_READ);  // the edge for the waiting data has passed: read now
  }
  if (!pending_ && closing_ && !lingering_) {
    finishOutput();
  }
}

void Connection::closeAfterFlush() {
  if (closing_ || finished_) {
    return;
  }
  closing_ = true;
  if (!pending_) {
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
      received_ += n;
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
  } else if (write_ticks != 0 && pending_ && now_tick - write_tick_ >= write_ticks) {
    worker_.stats().write_timeout_closed.add();
    finished_ = true;  // the peer stopped reading: nothing more can be sent
  } else if (message_ticks != 0 && !closing_ && framer_.partialBytes() > 0 &&
             now_tick - message_tick_ >= message_ticks) {
    worker_.stats().message_timeout_closed.add();
    send(common::kMessageTimeoutReply.data(), common::kMessageTimeoutReply.size());
    closeAfterFlush();
  }
}

void Connection::closeForShutdown() {
  if (pending_) {
    sendSome(fd(), pending_->data(), pending_->size());  // best effort, never blocks
  }
  finished_ = true;
}

}  // namespace reactord::server
