#include "tests/support/test_client.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "common/socket_address.h"

namespace reactord::testing {
namespace {

using Clock = std::chrono::steady_clock;

int remainingMs(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count();
  return left > 0 ? static_cast<int>(left) : 0;
}

// Waits for `events` on fd until the deadline; the revents, or 0 on timeout.
short waitFor(int fd, short events, Clock::time_point deadline) {
  pollfd p{fd, events, 0};
  int n;
  do {
    n = poll(&p, 1, remainingMs(deadline));
  } while (n < 0 && errno == EINTR);
  return n > 0 ? p.revents : 0;
}

}  // namespace

std::optional<TestClient> TestClient::connect(uint16_t port, const std::string& host, int* error,
                                              const std::string& source) {
  const auto address = common::SocketAddress::parse(host, port);
  if (!address) {
    return std::nullopt;
  }
  common::UniqueFd fd(socket(address->family(), SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!source.empty()) {
    const auto from = common::SocketAddress::parse(source, 0);
    if (!from || bind(fd.get(), from->get(), from->length()) != 0) {
      return std::nullopt;
    }
  }
  if (::connect(fd.get(), address->get(), address->length()) != 0) {
    if (error != nullptr) {
      *error = errno;
    }
    return std::nullopt;
  }
  fcntl(fd.get(), F_SETFL, O_NONBLOCK);
  return TestClient(std::move(fd));
}

std::optional<TestClient> TestClient::connectWithin(uint16_t port, milliseconds timeout,
                                                    int* error) {
  const auto address = common::SocketAddress::parse("127.0.0.1", port);
  common::UniqueFd fd(socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  int result = ::connect(fd.get(), address->get(), address->length()) == 0 ? 0 : errno;
  if (result == EINPROGRESS) {
    const short ready = waitFor(fd.get(), POLLOUT, Clock::now() + timeout);
    socklen_t length = sizeof result;
    result = ETIMEDOUT;
    if (ready != 0) {
      getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &result, &length);
    }
  }
  if (error != nullptr) {
    *error = result;
  }
  if (result != 0) {
    return std::nullopt;
  }
  return TestClient(std::move(fd));
}

bool TestClient::sendAll(const std::string& data, milliseconds timeout) {
  return sendUntilBlocked(data, timeout) == data.size();
}

bool TestClient::readAvailable(std::string& out, size_t limit) {
  char buffer[65536];
  while (out.size() < limit) {
    const ssize_t n = ::read(fd(), buffer, std::min(sizeof buffer, limit - out.size()));
    if (n > 0) {
      out.append(buffer, n);
    } else if (n == 0) {
      return false;
    } else if (errno != EAGAIN && errno != EINTR) {
      last_read_error_ = errno;
      return false;
    } else if (errno == EAGAIN) {
      return true;
    }
  }
  return true;
}

std::string TestClient::readExactly(size_t size, milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  std::string out;
  while (out.size() < size && waitFor(fd(), POLLIN, deadline) != 0) {
    if (!readAvailable(out, size)) {
      break;
    }
  }
  return out;
}

std::string TestClient::readUntilClosed(milliseconds timeout, bool* closed) {
  const auto deadline = Clock::now() + timeout;
  std::string out;
  bool eof = false;
  while (!eof && waitFor(fd(), POLLIN, deadline) != 0) {
    eof = !readAvailable(out, SIZE_MAX);
  }
  if (closed != nullptr) {
    *closed = eof;
  }
  return out;
}

bool TestClient::closedWithoutReply(milliseconds timeout) {
  bool closed = false;
  const std::string reply = readUntilClosed(timeout, &closed);
  return closed && reply.empty();
}

std::string TestClient::readFor(milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  std::string out;
  while (waitFor(fd(), POLLIN, deadline) != 0 && readAvailable(out, SIZE_MAX)) {
  }
  return out;
}

std::string TestClient::exchange(const std::string& data, milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  std::string received;
  size_t sent = 0;
  while (received.size() < data.size() && remainingMs(deadline) > 0) {
    const short events = POLLIN | (sent < data.size() ? POLLOUT : 0);
    const short ready = waitFor(fd(), events, deadline);
    if (ready & POLLOUT) {
      const ssize_t n = ::send(fd(), data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
      if (n > 0) {
        sent += n;
      }
    }
    if ((ready & (POLLIN | POLLHUP | POLLERR)) && !readAvailable(received, data.size())) {
      break;
    }
  }
  return received;
}

std::string randomBytes(size_t size, uint32_t seed) {
  std::string out(size, '\0');
  for (auto& byte : out) {
    seed = seed * 1664525u + 1013904223u;
    byte = static_cast<char>(seed >> 24);
  }
  return out;
}

size_t TestClient::sendUntilBlocked(const std::string& data, milliseconds quiet) {
  size_t sent = 0;
  while (sent < data.size()) {
    const ssize_t n = ::send(fd(), data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += n;
    } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
      break;
    } else if (waitFor(fd(), POLLOUT, Clock::now() + quiet) == 0) {
      break;
    }
  }
  return sent;
}

bool TestClient::waitPeerGone(milliseconds timeout) {
  // POLLRDHUP alone: pending data (POLLIN) does not count, a FIN or a reset does.
  return (waitFor(fd(), POLLRDHUP, Clock::now() + timeout) & (POLLRDHUP | POLLHUP | POLLERR)) != 0;
}

void TestClient::shutdownWrite() { ::shutdown(fd(), SHUT_WR); }

void TestClient::abort() {
  const linger hard{1, 0};
  setsockopt(fd(), SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
  fd_.reset();
}

}  // namespace reactord::testing
