#include "client/reactor_client/tcp_client.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace reactord::client {

int millisUntil(Clock::time_point deadline) {
  const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
  return left.count() > 0 ? static_cast<int>(left.count()) : 0;
}

bool TcpClient::waitFor(short events, Clock::time_point deadline, const char* what,
                        std::string* error) {
  while (true) {
    pollfd entry{fd_.get(), events, 0};
    const int ready = poll(&entry, 1, millisUntil(deadline));
    if (ready > 0) {
      return true;
    }
    if (ready == 0) {
      *error = std::string("timed out ") + what + " " + peer_;
      return false;
    }
    if (errno != EINTR) {
      *error = std::string("poll failed ") + what + " " + peer_ + ": " + std::strerror(errno);
      return false;
    }
  }
}

bool TcpClient::connect(const common::SocketAddress& address, Clock::time_point deadline,
                        std::string* error) {
  peer_ = address.toString();
  fd_.reset(socket(address.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd_.valid()) {
    *error = "socket() failed: " + std::string(std::strerror(errno));
    return false;
  }
  const int one = 1;
  setsockopt(fd_.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (::connect(fd_.get(), address.get(), address.length()) != 0) {
    if (errno != EINPROGRESS) {
      *error = "cannot connect to " + peer_ + ": " + std::strerror(errno);
      fd_.reset();
      return false;
    }
    if (!waitFor(POLLOUT, deadline, "connecting to", error)) {
      fd_.reset();
      return false;
    }
    int so_error = 0;
    socklen_t length = sizeof so_error;
    getsockopt(fd_.get(), SOL_SOCKET, SO_ERROR, &so_error, &length);
    if (so_error != 0) {
      *error = "cannot connect to " + peer_ + ": " + std::strerror(so_error);
      fd_.reset();
      return false;
    }
  }
  return true;
}

bool TcpClient::sendAll(std::string_view data, Clock::time_point deadline, std::string* error) {
  while (!data.empty()) {
    const ssize_t n = send(fd_.get(), data.data(), data.size(), MSG_NOSIGNAL);
    if (n > 0) {
      data.remove_prefix(static_cast<size_t>(n));
    } else if (errno == EAGAIN || errno == EINTR) {
      if (!waitFor(POLLOUT, deadline, "sending to", error)) {
        return false;
      }
    } else {
      *error = "cannot send to " + peer_ + ": " + std::strerror(errno);
      return false;
    }
  }
  return true;
}

long TcpClient::readSome(char* buffer, size_t size, Clock::time_point deadline,
                         std::string* error) {
  while (true) {
    const ssize_t n = recv(fd_.get(), buffer, size, 0);
    if (n >= 0) {
      return static_cast<long>(n);
    }
    if (errno != EAGAIN && errno != EINTR) {
      *error = "cannot read from " + peer_ + ": " + std::strerror(errno);
      return -1;
    }
    if (!waitFor(POLLIN, deadline, "waiting for a reply from", error)) {
      return -1;
    }
  }
}

bool TcpClient::shutdownWrite(std::string* error) {
  if (shutdown(fd_.get(), SHUT_WR) != 0) {
    *error = "cannot half-close the connection to " + peer_ + ": " + std::strerror(errno);
    return false;
  }
  return true;
}

}  // namespace reactord::client
