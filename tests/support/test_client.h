#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "common/unique_fd.h"

namespace reactord::testing {

using std::chrono::milliseconds;

// A blocking-style TCP client for tests: every wait has a deadline (poll), so a misbehaving server
// fails the test instead of hanging it. Test-thread-only.
class TestClient {
 public:
  // Connects to host:port (numeric IPv4 or IPv6), from `source` if given (another loopback
  // address, say); nullopt with `error` set when it fails.
  static std::optional<TestClient> connect(uint16_t port, const std::string& host = "127.0.0.1",
                                           int* error = nullptr, const std::string& source = "");

  // Like connect() from 127.0.0.1, but never blocks longer than `timeout`: a connect that does not
  // complete in time fails with `error` ETIMEDOUT (a hanging connect, not a refused one).
  static std::optional<TestClient> connectWithin(uint16_t port, milliseconds timeout,
                                                 int* error = nullptr);

  int fd() const { return fd_.get(); }
  // The errno of the last failed read (ECONNRESET for a reset), 0 if none failed.
  int lastReadError() const { return last_read_error_; }
  // All of `data`, or false when the socket fails or takes nothing for `timeout`.
  bool sendAll(const std::string& data, milliseconds timeout = milliseconds(10000));
  // Exactly `size` bytes, or fewer if the peer closed or the deadline passed.
  std::string readExactly(size_t size, milliseconds timeout = milliseconds(10000));
  // Everything until the peer closes; `closed` tells whether it did before the deadline.
  std::string readUntilClosed(milliseconds timeout, bool* closed = nullptr);
  // True when the peer closed (or reset) the connection without sending a byte, within `timeout`.
  bool closedWithoutReply(milliseconds timeout = milliseconds(10000));
  // Whatever arrives within `timeout` (for checking that nothing does).
  std::string readFor(milliseconds timeout);
  // Sends `data` while reading the replies, so that neither side's buffers deadlock: returns the
  // first data.size() bytes received.
  std::string exchange(const std::string& data, milliseconds timeout = milliseconds(30000));
  void shutdownWrite();
  // Aborts the connection: SO_LINGER 0, then close, so the peer gets a reset. The client is
  // unusable afterwards.
  void abort();
  // Waits, without reading, until the peer closes or resets the connection.
  bool waitPeerGone(milliseconds timeout);
  // Sends from `data` without reading until the socket takes nothing for `quiet`: the bytes sent.
  size_t sendUntilBlocked(const std::string& data, milliseconds quiet);

 private:
  explicit TestClient(common::UniqueFd fd) : fd_(std::move(fd)) {}
  // Reads what is there into `out` (at most `limit` bytes in all); false on EOF or error.
  bool readAvailable(std::string& out, size_t limit);

  common::UniqueFd fd_;
  int last_read_error_ = 0;
};

// Deterministic pseudo-random bytes, all 256 values, so that any reordering or loss shows.
std::string randomBytes(size_t size, uint32_t seed = 1);

}  // namespace reactord::testing
