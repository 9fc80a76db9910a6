#pragma once

#include <chrono>
#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/unique_fd.h"

namespace reactord::common {

// The moment by which a step on a control channel must be done: every wait is bounded by one, so
// that a peer that stops answering cannot hang either side.
using Deadline = std::chrono::steady_clock::time_point;

inline Deadline deadlineIn(std::chrono::milliseconds timeout) {
  return std::chrono::steady_clock::now() + timeout;
}

// Waits until `fd` is ready for `events` (POLLIN, POLLOUT) or the deadline passes. False on
// timeout (errno ETIMEDOUT) or a poll error. Any thread.
bool waitUntilReady(int fd, short events, Deadline deadline);

// One message of a SOCK_SEQPACKET Unix-domain socket: its bytes and the descriptors that came with
// it (SCM_RIGHTS), each owned, so that an error anywhere closes them.
struct FdMessage {
  std::string bytes;
  std::vector<UniqueFd> fds;
};

enum class ReceiveStatus {
  kOk,
  kClosed,      // the peer closed the channel (or sent an empty message, which is never valid)
  kTimeout,     // nothing whole arrived before the deadline
  kTruncated,   // a message longer than max_bytes (MSG_TRUNC)
  kTooManyFds,  // more descriptors than max_fds (or the control data was cut: MSG_CTRUNC)
  kBadControl,  // control data other than SCM_RIGHTS
  kError,       // recvmsg failed (errno in the text)
};

struct ReceiveResult {
  ReceiveStatus status = ReceiveStatus::kError;
  FdMessage message;  // on kOk only; on any other status every received descriptor is closed
  std::string error;  // on failure: one line saying what happened
};

// Receives one message of at most `max_bytes` bytes and `max_fds` descriptors from a non-blocking
// SOCK_SEQPACKET socket, waiting until `deadline`. Received descriptors are close-on-exec. Every
// failure closes whatever descriptors arrived. Any thread (one caller per socket at a time).
ReceiveResult receiveFdMessage(int socket, size_t max_bytes, size_t max_fds, Deadline deadline);

// Sends `bytes` (not empty) with `fds` (at most kMaxFdsPerMessage; the caller keeps its copies) as
// one message on a non-blocking SOCK_SEQPACKET socket, waiting until `deadline` for room. False
// with `error` set on failure (timeout, a peer gone: EPIPE, never SIGPIPE).
bool sendFdMessage(int socket, std::string_view bytes, std::span<const int> fds, Deadline deadline,
                   std::string* error);

// The kernel's limit of descriptors in one SCM_RIGHTS message (SCM_MAX_FD).
inline constexpr size_t kMaxFdsPerMessage = 253;

}  // namespace reactord::common
