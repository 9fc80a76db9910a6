#include "client/reactor_bench/bench_connection.h"

#include <glog/logging.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <string>

namespace reactord::client {
namespace {

uint64_t mix(uint64_t x) {  // splitmix64's finalizer
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

const char* failureName(int failure) {
  static const char* const kNames[] = {"reply mismatch", "reset or unexpected close", "timeout",
                                       "connect failed"};
  return kNames[failure];
}

}  // namespace

void BenchConnection::start(int64_t now) {
  DCHECK(std::this_thread::get_id() == context_.loop_thread);
  DCHECK(state_ == State::kClosed);
  ++generation_;
  tx_offset_ = tx_target_ = rx_offset_ = 0;
  send_times_.clear();
  // Each connection of each slot reads a different part of the echo stream, so bytes from another
  // connection, or from this one at another offset, fail the check. Ack lines start at 0.
  tx_start_ = context_.options->protocol == Protocol::kEcho
                  ? mix(uint64_t{id_} << 32 | generation_) % context_.requests->period()
                  : 0;
  state_ = State::kConnecting;
  state_since_ = connect_started_ = now;
  const common::SocketAddress& address = context_.options->address;
  fd_.reset(socket(address.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd_.valid()) {
    fail(Failure::kConnect, now, errno);
    return;
  }
  const int one = 1;
  setsockopt(fd_.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (const int size = context_.options->socket_buffer_bytes; size > 0) {
    setsockopt(fd_.get(), SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
    setsockopt(fd_.get(), SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  }
  read_event_.assign(context_.base, fd_.get(), EV_READ | EV_PERSIST, &onReadableThunk, this);
  write_event_.assign(context_.base, fd_.get(), EV_WRITE | EV_PERSIST, &onWritableThunk, this);
  if (connect(fd_.get(), address.get(), address.length()) == 0) {
    onConnected(now);
  } else if (errno == EINPROGRESS) {
    armWrite(true);
  } else {
    fail(Failure::kConnect, now, errno);
  }
}

void BenchConnection::onConnected(int64_t now) {
  const std::optional<std::string> header = context_.options->proxy.headerFor(fd_.get());
  if (!header) {
    fail(Failure::kConnect, now, errno);
    return;
  }
  proxy_header_ = *header;
  proxy_header_sent_ = 0;
  state_ = State::kOpen;
  state_since_ = now;
  context_.counters->connects.add();
  context_.owner->connectSettled();
  if (context_.options->mode == BenchMode::kStall) {
    flushStall(now);  // and never read
    return;
  }
  read_event_.add();
  switch (context_.options->mode) {
    case BenchMode::kPingPong:
    case BenchMode::kBulk:
      while (send_times_.size() < context_.window) {
        queue(now);
      }
      break;
    case BenchMode::kChurn:
      queue(connect_started_);  // the latency of a whole connect + round trip
      break;
    case BenchMode::kIdle:
      queue(now);
      break;
    case BenchMode::kRate:
    case BenchMode::kStall:
      break;  // rate: messages come from sendAt(), maybe already queued while connecting
  }
  flush(now);
}

void BenchConnection::sendAt(int64_t intended_ns, int64_t now) {
  DCHECK(std::this_thread::get_id() == context_.loop_thread);
  if (state_ == State::kConnecting) {
    queue(intended_ns);
  } else if (state_ == State::kOpen) {
    queue(intended_ns);
    flush(now);
  }
}

void BenchConnection::queue(int64_t start_ns) {
  send_times_.push(start_ns);
  tx_target_ += context_.request_bytes;
}

ssize_t BenchConnection::sendSome(const char* data, size_t size, int64_t now) {
  while (true) {
    const ssize_t n = send(fd_.get(), data, size, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      return n;
    }
    if (errno == EAGAIN) {
      armWrite(true);
      return 0;
    }
    if (errno != EINTR) {
      fail(Failure::kReset, now, errno);
      return -1;
    }
  }
}

bool BenchConnection::flush(int64_t now) {
  while (proxy_header_sent_ < proxy_header_.size()) {
    const ssize_t n = sendSome(proxy_header_.data() + proxy_header_sent_,
                               proxy_header_.size() - proxy_header_sent_, now);
    if (n <= 0) {
      return n == 0;
    }
    proxy_header_sent_ += static_cast<size_t>(n);
  }
  while (tx_offset_ < tx_target_) {
    const size_t length = std::min<uint64_t>(tx_target_ - tx_offset_, context_.requests->period());
    const ssize_t n = sendSome(context_.requests->at(tx_start_ + tx_offset_), length, now);
    if (n <= 0) {
      return n == 0;
    }
    tx_offset_ += static_cast<uint64_t>(n);
  }
  armWrite(false);
  return true;
}

void BenchConnection::flushStall(int64_t now) {
  constexpr int kChunksPerEvent = 16;  // then the other connections of the worker
  for (int i = 0; i < kChunksPerEvent; ++i) {
    if (tx_offset_ == tx_target_) {
      tx_target_ += context_.stall_chunk_bytes;
    }
    const size_t length = std::min<uint64_t>(tx_target_ - tx_offset_, context_.requests->period());
    const ssize_t n = send(fd_.get(), context_.requests->at(tx_start_ + tx_offset_), length,
                           MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      tx_offset_ += static_cast<uint64_t>(n);
      if (tx_offset_ == tx_target_) {
        context_.counters->messages.add();  // a whole chunk was taken
      }
    } else if (errno == EAGAIN) {
      break;
    } else if (errno != EINTR) {
      closedByServer(now);
      return;
    }
  }
  armWrite(true);
}

void BenchConnection::closedByServer(int64_t now) {
  context_.counters->server_closes.add();
  context_.counters->closes.add();
  closeSocket();
  if (!context_.draining) {
    context_.owner->requestStart(this, now + kRetryDelayNs);
  }
}

void BenchConnection::onWritable() {
  const int64_t now = nowNanos();
  if (state_ == State::kOpen && context_.options->mode == BenchMode::kStall) {
    flushStall(now);
    return;
  }
  if (state_ != State::kConnecting) {
    flush(now);
    return;
  }
  int error = 0;
  socklen_t length = sizeof error;
  if (getsockopt(fd_.get(), SOL_SOCKET, SO_ERROR, &error, &length) != 0) {
    error = errno;
  }
  if (error != 0) {
    fail(Failure::kConnect, now, error);
  } else {
    onConnected(now);
  }
}

void BenchConnection::onReadable() {
  const int64_t now = nowNanos();
  const ssize_t n = recv(fd_.get(), context_.read_buffer, context_.read_buffer_size, 0);
  if (n < 0) {
    if (errno != EAGAIN && errno != EINTR) {
      fail(Failure::kReset, now, errno);
    }
    return;
  }
  if (n == 0) {
    onEndOfStream(now);
    return;
  }
  if (!verify(context_.read_buffer, static_cast<size_t>(n))) {
    fail(Failure::kMismatch, now, 0);
    return;
  }
  const uint64_t before = rx_offset_ / context_.reply_bytes;
  rx_offset_ += static_cast<uint64_t>(n);
  complete(rx_offset_ / context_.reply_bytes - before, now);
  afterReplies(now);
}

bool BenchConnection::verify(const char* data, size_t size) const {
  // Nothing may come back that was not asked for: echo returns the bytes written, ack one reply
  // per whole line written.
  const uint64_t allowed = context_.options->protocol == Protocol::kEcho
                               ? tx_offset_
                               : tx_offset_ / context_.request_bytes * context_.reply_bytes;
  return rx_offset_ + size <= allowed &&
         std::memcmp(data, context_.replies->at(tx_start_ + rx_offset_), size) == 0;
}

void BenchConnection::complete(uint64_t replies, int64_t now) {
  for (uint64_t i = 0; i < replies; ++i) {
    const int64_t started = send_times_.pop();
    if (context_.measuring) {
      context_.histogram->record(static_cast<uint64_t>(std::max<int64_t>(0, now - started)));
    }
  }
  context_.counters->messages.add(replies);
  if (replies > 0 && context_.options->mode == BenchMode::kIdle && !settled_) {
    settled_ = true;
    context_.counters->settled.add();
  }
}

void BenchConnection::afterReplies(int64_t now) {
  const BenchMode mode = context_.options->mode;
  if (context_.draining || mode == BenchMode::kChurn) {
    if (send_times_.empty()) {
      halfClose(now);
    }
    return;
  }
  if (mode == BenchMode::kPingPong || mode == BenchMode::kBulk) {
    while (send_times_.size() < context_.window) {
      queue(now);
    }
    flush(now);
  }
}

void BenchConnection::halfClose(int64_t now) {
  if (state_ != State::kOpen) {
    return;
  }
  if (shutdown(fd_.get(), SHUT_WR) != 0) {
    fail(Failure::kReset, now, errno);
    return;
  }
  state_ = State::kClosing;
  state_since_ = now;
  armWrite(false);
}

void BenchConnection::onEndOfStream(int64_t now) {
  if (state_ != State::kClosing || !send_times_.empty()) {
    fail(Failure::kReset, now, 0);  // the server closed before it was asked to
    return;
  }
  closeSocket();
  context_.counters->closes.add();
  if (context_.options->mode == BenchMode::kChurn && !context_.draining) {
    context_.owner->requestStart(this, now);
  }
}

void BenchConnection::drain(int64_t now) {
  DCHECK(std::this_thread::get_id() == context_.loop_thread);
  if (state_ == State::kConnecting) {
    closeSocket();
    context_.owner->connectSettled();
  } else if (state_ == State::kOpen && context_.options->mode == BenchMode::kStall) {
    closeSocket();  // unread data: the close resets the connection; the abuser is gone at once
    context_.counters->closes.add();
  } else if (state_ == State::kOpen && send_times_.empty()) {
    halfClose(now);
  }
}

void BenchConnection::checkTimeout(int64_t now) {
  DCHECK(std::this_thread::get_id() == context_.loop_thread);
  const int64_t limit = int64_t{context_.options->timeout_ms} * 1'000'000;
  if (state_ == State::kConnecting && now - state_since_ > limit) {
    fail(Failure::kConnect, now, ETIMEDOUT);
    return;
  }
  // Open: the oldest message waits for its reply. Closing: the server's close is awaited.
  std::optional<int64_t> waiting_since;
  if (state_ == State::kOpen && !send_times_.empty()) {
    waiting_since = send_times_.front();
  } else if (state_ == State::kClosing) {
    waiting_since = state_since_;
  }
  if (waiting_since && now - *waiting_since > limit) {
    fail(Failure::kTimeout, now, 0);
  }
}

void BenchConnection::fail(Failure failure, int64_t now, int error_number) {
  BenchCounters& counters = *context_.counters;
  common::Counter* const kCounters[] = {&counters.mismatches, &counters.resets, &counters.timeouts,
                                        &counters.connect_failures};
  kCounters[static_cast<int>(failure)]->add();
  if (failure == Failure::kConnect && error_number == ECONNREFUSED) {
    counters.connect_refused.add();
  } else if (failure == Failure::kConnect && error_number == ETIMEDOUT) {
    counters.connect_timeouts.add();
  }
  LOG_FIRST_N(WARNING, 10) << "connection to " << context_.options->address.toString() << ": "
                           << failureName(static_cast<int>(failure))
                           << (error_number != 0 ? std::string(": ") + std::strerror(error_number)
                                                 : std::string())
                           << describeStreams();
  const bool was_connecting = state_ == State::kConnecting;
  const bool was_connected = state_ == State::kOpen || state_ == State::kClosing;
  closeSocket();
  if (was_connected) {
    counters.closes.add();
  }
  if (was_connecting) {
    context_.owner->connectSettled();
  }
  if (context_.options->mode == BenchMode::kIdle) {
    if (!settled_) {  // idle connections are not retried: the count open at once is the figure
      settled_ = true;
      counters.settled.add();
    }
  } else if (!context_.draining) {
    context_.owner->requestStart(this, now + kRetryDelayNs);
  }
}

std::string BenchConnection::describeStreams() const {
  if (!fd_.valid() || state_ == State::kConnecting) {
    return {};
  }
  // Bytes the kernel holds for this socket: unread input would mean a stall on this side.
  int unread = -1;
  int unsent = -1;
  ioctl(fd_.get(), FIONREAD, &unread);
  ioctl(fd_.get(), TIOCOUTQ, &unsent);
  return " (bytes queued " + std::to_string(tx_target_) + ", written " +
         std::to_string(tx_offset_) + ", received " + std::to_string(rx_offset_) +
         ", unread in the socket " + std::to_string(unread) + ", unsent in the socket " +
         std::to_string(unsent) + ", write event " + (write_armed_ ? "armed" : "off") + ")";
}

void BenchConnection::closeSocket() {
  read_event_.reset();
  write_event_.reset();
  write_armed_ = false;
  fd_.reset();
  state_ = State::kClosed;
}

void BenchConnection::armWrite(bool on) {
  if (on != write_armed_) {
    if (on) {
      write_event_.add();
    } else {
      write_event_.remove();
    }
    write_armed_ = on;
  }
}

}  // namespace reactord::client
