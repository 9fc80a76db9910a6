#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

#include "common/socket_address.h"
#include "common/unique_fd.h"

namespace reactord::client {

using Clock = std::chrono::steady_clock;

// One TCP connection with blocking-style calls that each give up at a deadline (non-blocking
// socket + poll). Errors come back as text naming the address, never as exceptions. Owns its
// socket; used by one thread; destroyed by its owner, which closes the socket.
class TcpClient {
 public:
  // Connects to `address` before `deadline`. On failure `error` says why and the client is not
  // connected.
  bool connect(const common::SocketAddress& address, Clock::time_point deadline,
               std::string* error);
  // Writes all of `data` before `deadline`.
  bool sendAll(std::string_view data, Clock::time_point deadline, std::string* error);
  // Reads what is available (waiting until `deadline` for something). Returns the byte count,
  // 0 at end of stream, or -1 with `error` set (timeout, reset).
  long readSome(char* buffer, size_t size, Clock::time_point deadline, std::string* error);
  // Half-closes: the server sees end of stream, replies can still be read.
  bool shutdownWrite(std::string* error);

  int fd() const { return fd_.get(); }
  const std::string& peer() const { return peer_; }

 private:
  // Waits for `events` on the socket until `deadline`; false with `error` set on timeout.
  bool waitFor(short events, Clock::time_point deadline, const char* what, std::string* error);

  common::UniqueFd fd_;
  std::string peer_;
};

// Milliseconds left until `deadline`, at least 0, for poll().
int millisUntil(Clock::time_point deadline);

}  // namespace reactord::client
