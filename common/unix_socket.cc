#include "common/unix_socket.h"

#include <sys/stat.h>
#include <sys/un.h>

#include <cerrno>
#include <cstring>
#include <thread>

namespace reactord::common {
namespace {

bool makeAddress(const std::string& path, sockaddr_un* address) {
  if (path.empty() || path.size() > maxUnixPathLength()) {
    errno = ENAMETOOLONG;
    return false;
  }
  *address = {};
  address->sun_family = AF_UNIX;
  std::memcpy(address->sun_path, path.data(), path.size());
  return true;
}

UniqueFd newSocket() {
  return UniqueFd(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
}

std::string describe(const char* what, const std::string& path, int error) {
  return std::string(what) + " " + path + ": " + std::strerror(error);
}

}  // namespace

size_t maxUnixPathLength() { return sizeof(sockaddr_un{}.sun_path) - 1; }

bool seqpacketPair(UniqueFd* first, UniqueFd* second) {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) != 0) {
    return false;
  }
  first->reset(fds[0]);
  second->reset(fds[1]);
  return true;
}

UnixConnectResult connectUnixSeqpacket(const std::string& path, Deadline deadline) {
  UnixConnectResult result;
  sockaddr_un address;
  if (!makeAddress(path, &address)) {
    result.error = errno;
    result.text = describe("cannot connect to", path, errno);
    return result;
  }
  while (true) {
    UniqueFd fd = newSocket();
    if (!fd.valid()) {
      result.error = errno;
      result.text = describe("socket() for", path, errno);
      return result;
    }
    if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0) {
      result.fd = std::move(fd);
      return result;
    }
    const int error = errno;
    if (error == EINTR) {
      continue;
    }
    // A Unix socket's non-blocking connect says EAGAIN when the listener's backlog is full.
    if (error == EAGAIN && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      continue;
    }
    result.error = error == EAGAIN ? ETIMEDOUT : error;
    result.text = describe("cannot connect to", path, result.error);
    return result;
  }
}

UnixListenResult listenUnixSeqpacket(const std::string& path, mode_t mode, int backlog) {
  UnixListenResult result;
  sockaddr_un address;
  if (!makeAddress(path, &address)) {
    result.text = describe("cannot bind", path, errno);
    return result;
  }
  UniqueFd fd = newSocket();
  if (!fd.valid()) {
    result.text = describe("socket() for", path, errno);
    return result;
  }
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    result.text = describe("cannot bind", path, errno);
    return result;
  }
  if (::chmod(path.c_str(), mode) != 0 || ::listen(fd.get(), backlog) != 0) {
    result.text = describe("cannot set up", path, errno);
    ::unlink(path.c_str());
    return result;
  }
  result.fd = std::move(fd);
  return result;
}

UniqueFd acceptUnix(int listen_fd) {
  while (true) {
    const int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0 || errno != EINTR) {
      return UniqueFd(fd);
    }
  }
}

std::optional<ucred> peerCredentials(int fd) {
  ucred credentials{};
  socklen_t length = sizeof credentials;
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &credentials, &length) != 0) {
    return std::nullopt;
  }
  return credentials;
}

}  // namespace reactord::common
