#include "server/connection.h"

#include <glog/logging.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/raw_io.h"

namespace reactord::server {
namespace {

// How long a connection we have finished with may wait for its peer's EOF (lingering close, so
// that our last reply is not destroyed by a reset), in ticks.
constexpr uint32_t kLingerTicks = 2 * kTicksPerSecond;

ssize_t sendSome(int fd, const char* data, size_t size) {
  ssize_t n;
  do {
    n = common::rawSend(fd, data, size);
  } while (n < 0 && errno == EINTR);
  return n;
}

}  // namespace

Connection::Connection(const ConnectionContext& context, common::UniqueFd fd, const IpKey& peer,
                       event_callback_fn callback)
    : context_(context),
      fd_(std::move(fd)),
      peer_(peer),
      opened_(std::chrono::steady_clock::now()),
      last_active_tick_(context.now()) {
  event_.assign(context_.base, fd_.get(), EV_READ | EV_WRITE | EV_CLOSED | EV_ET | EV_PERSIST,
                callback, this);
  event_.add();
}

bool Connection::prepareRead(short what) {
  if ((what & EV_WRITE) && pending_) {
    flushPending();
    if (finished_) {
      return false;
    }
  }
  if (what & EV_CLOSED) {
    peer_shut_write_ = true;
  }
  if (!(what & (EV_READ | EV_CLOSED))) {
    return false;
  }
  if (lingering_) {
    discardInput();
    return false;
  }
  // Paused or closing: the data waits in the kernel; TCP flow control pushes back on the client.
  return !paused_ && !closing_;
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
  context_.stats->bytes_out.add(n);
  sent_ += n;
  if (static_cast<size_t>(n) < size) {
    write_tick_ = context_.now();
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
  context_.stats->bytes_out.add(n);
  sent_ += n;
  if (n > 0) {
    last_active_tick_ = write_tick_ = context_.now();
  }
  pending_->consume(n);  // a short write means the socket is full again: wait for the next edge
  if (pending_->empty()) {
    pending_.reset();
  }
  if (paused_ && (!pending_ || pending_->size() <= context_.max_pending_bytes / 2)) {
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
  last_active_tick_ = context_.now();
  discardInput();
}

void Connection::discardInput() {
  char* const buffer = context_.scratch;
  for (int i = 0; i < kReadsPerEvent; ++i) {
    const ssize_t n = ::read(fd(), buffer, kScratchBytes);
    if (n > 0) {
      context_.stats->bytes_in.add(n);
      context_.stats->bytes_discarded.add(n);
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
  context_.stats->conn_errors.add();
  if (error == ECONNRESET || error == EPIPE || error == ETIMEDOUT) {
    VLOG(1) << "fd " << fd() << ": " << std::strerror(error);
  } else {
    LOG_EVERY_T(WARNING, 1) << "connection error on fd " << fd() << ": " << std::strerror(error);
  }
  finished_ = true;
}

bool Connection::transportTimeouts(uint32_t now_tick) {
  const uint32_t quiet_ticks = now_tick - last_active_tick_;
  if (lingering_) {
    finished_ = quiet_ticks >= kLingerTicks;
    return true;
  }
  const ConnectionTimeouts& timeouts = context_.timeouts;
  if (timeouts.idle_ticks != 0 && quiet_ticks >= timeouts.idle_ticks) {
    context_.stats->idle_closed.add();
    finished_ = true;
  } else if (timeouts.write_ticks != 0 && pending_ &&
             now_tick - write_tick_ >= timeouts.write_ticks) {
    context_.stats->write_timeout_closed.add();
    finished_ = true;  // the peer stopped reading: nothing more can be sent
  }
  return finished_;
}

void Connection::closeForShutdown() {
  if (pending_) {
    sendSome(fd(), pending_->data(), pending_->size());  // best effort, never blocks
  }
  finished_ = true;
}

}  // namespace reactord::server
