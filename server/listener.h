#pragma once

#include <mutex>
#include <optional>

#include "common/accept_queue.h"
#include "common/socket_address.h"
#include "common/unique_fd.h"

namespace reactord::server {

// One listening socket of the server. Owned by the WorkerGroup, not by a worker, so that other
// threads can look at its accept queue while a worker accepts from it. The worker that serves it
// takes its fd() once, accepts from it without a lock, and is the only one to close() it; other
// threads inspect it through the mutex, which close() takes too, so that they never touch a
// descriptor number that has been closed (and maybe reused). The mutex is taken on close and on
// inspection, never per accept. Thread-safe as stated per method.
class Listener {
 public:
  Listener(common::UniqueFd fd, const common::SocketAddress& address)
      : fd_(std::move(fd)), raw_fd_(fd_.get()), address_(address) {}
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  // The descriptor to accept from, for the worker that serves this listener; -1 after close().
  // Serving-worker-only.
  int fd() const { return raw_fd_; }
  // Thread-safe: the address it listens on.
  const common::SocketAddress& address() const { return address_; }
  // Serving-worker-only: closes the socket (the kernel refuses new connects from then on, once no
  // other descriptor of it is open). Idempotent.
  void close();
  // Thread-safe: true until close().
  bool open() const;
  // Thread-safe: a new descriptor of the same socket (close-on-exec), for a takeover; invalid once
  // closed. Closing the copy never closes the socket while this descriptor is open, and the
  // reverse.
  common::UniqueFd duplicate() const;
  // Thread-safe, and never waits: the accept queue now (TCP_INFO, one syscall); nullopt once
  // closed, or while the serving worker is closing it (its lock is taken then).
  std::optional<common::AcceptQueue> acceptQueue() const;

 private:
  mutable std::mutex mutex_;
  common::UniqueFd fd_;  // guarded by mutex_ (closed under it)
  int raw_fd_;           // the serving worker's copy of the number: only it reads or changes it
  const common::SocketAddress address_;
};

}  // namespace reactord::server
