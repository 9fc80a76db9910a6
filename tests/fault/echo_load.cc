#include "tests/fault/echo_load.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <random>
#include <stdexcept>

namespace reactord::testing {
namespace {

constexpr size_t kChunk = 16 * 1024;
constexpr uint64_t kWindow = 64 * 1024;  // bytes in flight per client

}  // namespace

EchoLoad::EchoLoad(uint16_t port, int count, int stubborn) {
  clients_.reserve(count);
  for (int i = 0; i < count; ++i) {
    auto socket = TestClient::connect(port);
    if (!socket) {
      throw std::runtime_error("EchoLoad: connect " + std::to_string(i) + " failed");
    }
    clients_.push_back(Client{std::move(*socket)});
    clients_.back().seed = static_cast<uint32_t>(i + 1);
    clients_.back().closes = i >= stubborn;
  }
}

void EchoLoad::onWritable(Client& client) {
  char chunk[kChunk];
  const size_t size = std::min<uint64_t>(kChunk, kWindow - (client.sent - client.received));
  for (size_t i = 0; i < size; ++i) {
    chunk[i] = patternByte(client.seed, client.sent + i);
  }
  const ssize_t n = ::send(client.socket.fd(), chunk, size, MSG_NOSIGNAL);
  if (n > 0) {
    client.sent += n;
  } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
    client.failed = true;
  }
}

void EchoLoad::onReadable(Client& client) {
  char buffer[kChunk];
  const ssize_t n = ::read(client.socket.fd(), buffer, sizeof buffer);
  if (n > 0) {
    for (ssize_t i = 0; i < n; ++i) {
      client.mismatch |= buffer[i] != patternByte(client.seed, client.received + i);
    }
    client.received += n;
    echoed_ += n;
  } else if (n == 0) {
    client.eof = true;
  } else if (errno != EAGAIN && errno != EINTR) {
    client.failed = true;
  }
}

void EchoLoad::run(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::mt19937 random(42);
  bool close_scheduled = false;
  std::vector<pollfd> fds(clients_.size());
  while (!stop_ && std::chrono::steady_clock::now() < deadline) {
    const auto now = std::chrono::steady_clock::now();
    if (!close_scheduled && close_spread_ms_ >= 0) {
      close_scheduled = true;
      for (auto& client : clients_) {
        client.close_at = now + std::chrono::milliseconds(random() % (close_spread_ms_ + 1));
      }
    }
    int waiting = 0;
    for (size_t i = 0; i < clients_.size(); ++i) {
      Client& client = clients_[i];
      if (close_scheduled && client.closes && !client.write_shut && now >= client.close_at) {
        client.socket.shutdownWrite();
        client.write_shut = true;
      }
      const bool done = client.eof || client.failed;
      const bool can_send = !client.write_shut && client.sent - client.received < kWindow;
      fds[i] = {done ? -1 : client.socket.fd(),
                static_cast<short>(POLLIN | (can_send ? POLLOUT : 0)), 0};
      waiting += done ? 0 : 1;
    }
    if (waiting == 0) {
      return;
    }
    if (poll(fds.data(), fds.size(), 10) <= 0) {
      continue;
    }
    for (size_t i = 0; i < clients_.size(); ++i) {
      if (fds[i].revents & POLLOUT) {
        onWritable(clients_[i]);
      }
      if (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) {
        onReadable(clients_[i]);
      }
    }
  }
}

}  // namespace reactord::testing
