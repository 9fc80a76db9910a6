#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "common/unique_fd.h"
#include "server/takeover.h"

namespace reactord::server {

// Serves a control socket on its own thread: accepts each connection, checks the peer's uid (this
// process's user or root; others are refused even if the file's mode let them in), and runs one
// takeover at a time with serveTakeover() on a session thread. A request that comes while a
// takeover is in progress, or after this process handed its listeners over, is refused at once
// with the reason; the host refuses during a drain. After a handover `on_handover` runs on the
// session thread (the supervisor starts the drain from there).
// Owns its threads and its wake-up eventfd, not the listening socket, which outlives it.
// Constructed, started and destroyed on the main thread; stop() and the counters are thread-safe.
class ControlServer {
 public:
  using OnHandover = std::function<void(const TakeoverOutcome&)>;

  ControlServer(int listen_fd, TakeoverHost& host, OnHandover on_handover,
                TakeoverTimeouts timeouts = {});
  ~ControlServer();
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  // Main-thread-only: false with `error` when its thread cannot be started.
  bool start(std::string* error);
  // Thread-safe: stops accepting; waits for a takeover in progress to end (its steps have
  // deadlines). Idempotent.
  void stop();

  // Thread-safe: takeovers this process served to the end (0 or 1: it drains after one).
  uint64_t takeoversServed() const { return served_.load(std::memory_order_relaxed); }
  // Thread-safe: requests refused (busy, handed over, draining, bad uid, bad message).
  uint64_t takeoversRefused() const { return refused_.load(std::memory_order_relaxed); }

 private:
  void run();
  void onConnection(common::UniqueFd connection);
  void runSession(common::UniqueFd connection, pid_t peer);
  void refuse(int connection, pid_t peer, const std::string& reason);

  const int listen_fd_;
  TakeoverHost& host_;
  const OnHandover on_handover_;
  const TakeoverTimeouts timeouts_;
  common::UniqueFd wake_fd_;  // eventfd: stop() -> the accept thread
  std::atomic<uint64_t> served_{0};
  std::atomic<uint64_t> refused_{0};

  std::mutex mutex_;
  bool session_active_ = false;  // guarded by mutex_
  pid_t session_peer_ = 0;       // guarded by mutex_
  pid_t handed_over_to_ = 0;     // guarded by mutex_; non-zero once the listeners are gone
  bool stopped_ = false;         // guarded by mutex_

  std::thread session_;  // touched by the accept thread only (and joined after it)
  std::thread thread_;
};

}  // namespace reactord::server
