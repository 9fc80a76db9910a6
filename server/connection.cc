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

// Charged for every open connection: this object and its slot in the worker's table (about 0.4
// KiB, measured: 4,000 idle connections added 1.45 MB to a cgroup v1's usage here) and the
// kernel's socket, file and epoll structures (about 3.5 KiB, which cgroup v2 charges too).
constexpr uint64_t kConnectionBytes = 4096;
// Charged while output is pending: the kernel's send queue of a peer that does not read holds
// TCP_NOTSENT_LOWAT of unsent bytes plus the segment in progress (64 KiB on loopback).
constexpr uint64_t kSendQueueBytes = kNotSentLowatBytes + 64 * 1024;
// Under memory pressure a paused connection's receive buffer is clamped to this (the kernel
// doubles it); its queue then holds at most that, the segment in progress and what was already
// in flight: 57 KiB measured on loopback, charged as 96 KiB.
constexpr int kPausedReceiveBuffer = 16 * 1024;
constexpr uint32_t kPausedReceiveBytes = 96 * 1024;

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
      charge_(*context.account, kConnectionBytes),
      fd_(std::move(fd)),
      peer_(peer),
      opened_(std::chrono::steady_clock::now()),
      last_active_tick_(context.now()) {
  event_.assign(context_.base, fd_.get(), EV_READ | EV_WRITE | EV_CLOSED | EV_ET | EV_PERSIST,
                callback, this);
  event_.add();
}

bool Connection::prepareRead(short what) {
  if ((what & EV_WRITE) && output_pending_) {
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
  context_.stats->bytes_out.add(n);
  sent_ += n;
  return n;
}

void Connection::send(const char* data, size_t size) {
  if (finished_) {
    return;
  }
  if (output_pending_) {
    DCHECK(pending_ != nullptr) << "bytes after owed replies";
    pending_->append(data, size);  // behind what waits; the socket is full until an EV_WRITE edge
    return;
  }
  const ssize_t n = writeNow(data, size);
  if (n >= 0 && static_cast<size_t>(n) < size) {
    pending_ = std::make_unique<common::OutputBuffer>(context_.max_buffer_capacity, &charge_);
    pending_->append(data + n, size - n);
    holdOutput();
  }
}

void Connection::sendReplies(const common::RepeatedReply& reply, size_t count) {
  if (finished_ || count == 0) {
    return;
  }
  // The count stays far below 2^32: reading pauses past --max_pending_bytes (at most 1 GiB, 63
  // million replies of 17 bytes), and one read holds at most batch_replies of them.
  if (output_pending_) {
    DCHECK(pending_ == nullptr) << "replies after bytes";
    owed_.add(reply, static_cast<uint32_t>(count));  // behind what waits
    return;
  }
  DCHECK_LE(count, reply.batch_replies) << "one read's replies fit one batch";
  const size_t size = count * reply.reply.size();
  const ssize_t n = writeNow(reply.batch, size);
  if (n >= 0 && static_cast<size_t>(n) < size) {
    owed_.add(reply, static_cast<uint32_t>(count));
    owed_.consume(n);
    holdOutput();
  }
}

void Connection::sendLast(std::string_view line) {
  if (finished_) {
    return;
  }
  if (pending_) {
    pending_->append(line.data(), line.size());
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

void Connection::holdOutput() {
  output_pending_ = true;
  write_tick_ = context_.now();
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
      last_active_tick_ = write_tick_ = context_.now();
    }
    pending_->consume(n);  // a short write means the socket is full again: wait for the next edge
  } else if (!flushOwed()) {
    return;
  }
  if (pending_ ? pending_->empty() : owed_.empty()) {
    releaseOutput();
  }
  if (paused_ && (!output_pending_ || pendingBytes() <= context_.max_pending_bytes / 2)) {
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
      last_active_tick_ = write_tick_ = context_.now();
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
  if (context_.underPressure()) {
    // Memory is short: what the client sends while the server does not read should cost little.
    // Locks the buffer's size for the rest of the connection.
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
  } else if (timeouts.write_ticks != 0 && output_pending_ &&
             now_tick - write_tick_ >= timeouts.write_ticks) {
    context_.stats->write_timeout_closed.add();
    finished_ = true;  // the peer stopped reading: nothing more can be sent
  }
  return finished_;
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
