#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "common/socket_address.h"
#include "common/unique_fd.h"
#include "server/takeover_message.h"

namespace reactord::server {

// Both halves of a listening-socket takeover over a connected SOCK_SEQPACKET control channel (see
// TakeoverMessage for the wire format):
//
//   new process (TakeoverClient)          old process (serveTakeover)
//   hello pid                      -->
//                                  <--    offer pid listeners=K address; K x listener + 1 fd
//   (checks every fd, starts its workers on them)
//   ready pid workers              -->    stops accepting, then
//                                  <--    done pid            (and drains as on SIGTERM)
//
// Any failure before `ready` leaves the old process serving: the new one sends `abort` with the
// reason (or just closes) and exits non-zero. Every step has a deadline.

// How long one step may take: a receive, a send, or the old process's wait for `ready` (which
// covers the new process's start of its workers).
struct TakeoverTimeouts {
  std::chrono::milliseconds step{5000};
  std::chrono::milliseconds ready{15000};
};

// Why a takeover failed, for the exit message and for tests.
enum class TakeoverFailure {
  kNone,
  kUnreachable,  // no control socket, nobody listening, or the peer closed
  kPermission,   // the control socket refused this user (EACCES/EPERM, or refused by uid)
  kVersion,      // the peers speak different protocol versions
  kRefused,      // the old process said no (a takeover in progress, draining, ...)
  kMismatch,     // the listeners are not those of --bind/--port
  kProtocol,     // a malformed or unexpected message, truncation, too many fds
  kTimeout,      // a step passed its deadline
};

const char* takeoverFailureName(TakeoverFailure failure);

// The new process's half. Test-thread or main-thread only; one takeover per object.
class TakeoverClient {
 public:
  explicit TakeoverClient(TakeoverTimeouts timeouts = {}) : timeouts_(timeouts) {}

  // Connects to the control socket at `path` (connect()'s failures are classified) and receive()s.
  bool connectAndReceive(const std::string& path, const common::SocketAddress& expected,
                         std::string* error);
  // Says hello on `channel` and receives every listener, checking each: a listening TCP socket
  // bound to `expected` (its port 0 accepts whatever port the old process has). On failure sends
  // `abort` when the old process is still there, and returns false with `error` set.
  bool receive(common::UniqueFd channel, const common::SocketAddress& expected, std::string* error);

  TakeoverFailure failure() const { return failure_; }
  // True when the connect failed because nothing listens at the path: no socket file, or the
  // stale socket of a process that is gone (--takeover_optional starts fresh then).
  bool nothingListening() const { return nothing_listening_; }
  pid_t oldPid() const { return old_pid_; }
  // The address every listener is bound to (the real port).
  const common::SocketAddress& address() const { return address_; }
  // The received listeners, once; they are this process's from now on.
  std::vector<common::UniqueFd> takeListeners() { return std::move(listeners_); }

  // After the workers serve the listeners: sends `ready` and waits for `done`. False when the old
  // process did not confirm (it may still accept for a while; the new one serves anyway).
  bool finish(int workers, std::string* error);
  // Before `ready`: tells the old process to keep serving, and why; closes the channel.
  void abort(const std::string& reason);

 private:
  bool fail(TakeoverFailure failure, std::string text, std::string* error);
  bool receiveListeners(uint32_t count, const common::SocketAddress& expected, std::string* error);

  const TakeoverTimeouts timeouts_;
  common::UniqueFd channel_;
  TakeoverFailure failure_ = TakeoverFailure::kNone;
  bool nothing_listening_ = false;
  pid_t old_pid_ = 0;
  common::SocketAddress address_;
  std::vector<common::UniqueFd> listeners_;
};

// What the old process offers and does, for serveTakeover(). Implemented by the server; its
// methods are called on the thread that runs serveTakeover().
class TakeoverHost {
 public:
  // Why a takeover cannot start now ("draining"), or nullopt when it can.
  virtual std::optional<std::string> refusal() = 0;
  // Duplicates of every listening socket, all bound to `*address`. The caller closes the
  // duplicates; the sockets stay open as long as any process holds one.
  virtual std::vector<common::UniqueFd> duplicateListeners(common::SocketAddress* address) = 0;
  // Returns once no worker will accept from the listeners any more.
  virtual void stopAccepting() = 0;

 protected:
  ~TakeoverHost() = default;
};

struct TakeoverOutcome {
  bool handed_over = false;  // the new process serves; this one must drain now
  bool no_request = false;   // the peer left without a word (another reactord probing the path)
  pid_t new_pid = 0;
  std::string text;  // one line for the log: what happened
};

// The old process's half, on an accepted control connection. Refuses with the reason when the
// host does, or when the peer speaks another version.
TakeoverOutcome serveTakeover(int channel, TakeoverHost& host, TakeoverTimeouts timeouts = {});

// Sends `refused` with `reason` on a control connection (another takeover is in progress, ...).
void refuseTakeover(int channel, const std::string& reason, std::chrono::milliseconds timeout);

}  // namespace reactord::server
