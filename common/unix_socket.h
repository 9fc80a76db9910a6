#pragma once

#include <sys/socket.h>
#include <sys/types.h>

#include <optional>
#include <string>

#include "common/fd_message.h"
#include "common/unique_fd.h"

namespace reactord::common {

// Helpers for local control channels: SOCK_SEQPACKET Unix-domain sockets (message boundaries kept,
// connection-oriented), every descriptor non-blocking and close-on-exec. Any thread.

// The longest path a sockaddr_un holds (without its terminating NUL).
size_t maxUnixPathLength();

// A connected pair, for tests and in-process channels. False (errno set) on failure.
bool seqpacketPair(UniqueFd* first, UniqueFd* second);

struct UnixConnectResult {
  UniqueFd fd;       // valid on success
  int error = 0;     // errno of the failure: ENOENT, ECONNREFUSED, EACCES, ETIMEDOUT, ...
  std::string text;  // on failure: what failed, with the path
};

// Connects to the listening socket at `path`. A full backlog (EAGAIN) is retried until `deadline`.
UnixConnectResult connectUnixSeqpacket(const std::string& path, Deadline deadline);

struct UnixListenResult {
  UniqueFd fd;       // valid on success
  std::string text;  // on failure: what failed, with the path and the errno text
};

// Binds a listening socket at `path`, which must not exist (bind never replaces a file: it is the
// exclusive create of sockets), sets the file's mode to `mode`, and only then listens: until
// listen() a connect is refused, so nobody connects under the umask's mode. Removes the file again
// when a step after bind fails.
UnixListenResult listenUnixSeqpacket(const std::string& path, mode_t mode, int backlog);

// Accepts one pending connection (non-blocking, close-on-exec); invalid when none is pending.
UniqueFd acceptUnix(int listen_fd);

// The pid, uid and gid of the process at the other end of a connected Unix socket (SO_PEERCRED:
// as they were when it connected).
std::optional<ucred> peerCredentials(int fd);

}  // namespace reactord::common
