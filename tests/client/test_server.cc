#include "tests/client/test_server.h"

#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <stdexcept>

#include "common/listen_socket.h"
#include "common/socket_address.h"

namespace reactord::client::testing {
namespace {

constexpr size_t kMaxOut = 1 << 20;  // stop reading a peer that does not read its replies
constexpr char kAck[] = "Message received\n";

}  // namespace

TestServer::TestServer(Mode mode, bool proxy_header) : mode_(mode), proxy_header_(proxy_header) {
  auto result = common::openListenSocket(*common::SocketAddress::parse("127.0.0.1", 0), 1024,
                                         /*reuse_port=*/false);
  if (!result.fd.valid()) {
    throw std::runtime_error(result.error);
  }
  listener_ = std::move(result.fd);
  port_ = common::SocketAddress::localOf(listener_.get())->port();
  stop_fd_.reset(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  thread_ = std::thread([this] { serve(); });
}

TestServer::~TestServer() {
  const uint64_t one = 1;
  (void)!write(stop_fd_.get(), &one, sizeof one);
  thread_.join();
}

void TestServer::serve() {
  while (true) {
    std::vector<pollfd> fds = {{stop_fd_.get(), POLLIN, 0}, {listener_.get(), POLLIN, 0}};
    for (const Peer& peer : peers_) {
      const bool want_input =
          !peer.input_done && peer.out.size() < kMaxOut && mode_ != Mode::kSilent;
      fds.push_back(
          {peer.fd.get(),
           static_cast<short>((want_input ? POLLIN : 0) | (peer.out.empty() ? 0 : POLLOUT)), 0});
    }
    if (poll(fds.data(), fds.size(), 1000) < 0 && errno != EINTR) {
      return;
    }
    if (fds[0].revents != 0) {
      return;
    }
    std::vector<Peer> kept;
    for (size_t i = 0; i < peers_.size(); ++i) {
      const short events = fds[i + 2].revents;
      Peer& peer = peers_[i];
      bool alive = true;
      if ((events & (POLLIN | POLLHUP | POLLERR)) != 0 && !peer.input_done) {
        alive = readFrom(peer);
      }
      if (alive && (events & POLLOUT) != 0) {
        alive = writeTo(peer);
      }
      if (alive && !(peer.input_done && peer.out.empty())) {
        kept.push_back(std::move(peer));
      }
    }
    peers_ = std::move(kept);
    if (fds[1].revents != 0) {
      acceptAll();
    }
  }
}

void TestServer::acceptAll() {
  while (true) {
    const int fd = accept4(listener_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      return;
    }
    ++accepted_;
    Peer peer;
    peer.fd.reset(fd);
    if (proxy_header_) {
      peer.proxy.emplace();
    }
    peers_.push_back(std::move(peer));
  }
}

bool TestServer::readFrom(Peer& peer) {
  char buffer[64 * 1024];
  const ssize_t n = recv(peer.fd.get(), buffer, sizeof buffer, 0);
  if (n < 0) {
    return errno == EAGAIN || errno == EINTR;
  }
  if (n == 0) {
    peer.input_done = true;
    if (mode_ == Mode::kAck && peer.line_bytes > 0) {
      peer.out += kAck;  // a last unterminated line is answered too
    }
    return writeTo(peer);
  }
  const char* data = buffer;
  auto size = static_cast<size_t>(n);
  if (peer.proxy && !takeProxyHeader(peer, &data, &size)) {
    return false;
  }
  answer(peer, data, size);
  return writeTo(peer);
}

bool TestServer::takeProxyHeader(Peer& peer, const char** data, size_t* size) {
  const common::ProxyHeaderParser::Step step = peer.proxy->feed(*data, *size);
  if (step.status == common::ProxyHeaderParser::Status::kError) {
    ++proxy_errors_;
    return false;
  }
  *data += step.consumed;
  *size -= step.consumed;
  if (step.status == common::ProxyHeaderParser::Status::kDone) {
    std::lock_guard<std::mutex> lock(headers_mutex_);
    headers_.push_back(peer.proxy->header());
    peer.proxy.reset();
  }
  return true;
}

std::vector<common::ProxyHeader> TestServer::proxyHeaders() const {
  std::lock_guard<std::mutex> lock(headers_mutex_);
  return headers_;
}

void TestServer::answer(Peer& peer, const char* data, size_t size) {
  if (mode_ == Mode::kSilent) {
    return;
  }
  for (size_t i = 0; i < size; ++i, ++peer.offset) {
    if (mode_ == Mode::kAck) {
      if (data[i] == '\n') {
        peer.out += kAck;
        peer.line_bytes = 0;
      } else {
        ++peer.line_bytes;
      }
    } else {
      const bool corrupt = mode_ == Mode::kCorrupt && peer.offset % 100 == 99;
      peer.out += corrupt ? static_cast<char>(data[i] ^ 0x20) : data[i];
    }
  }
}

bool TestServer::writeTo(Peer& peer) {
  while (!peer.out.empty()) {
    const ssize_t n = send(peer.fd.get(), peer.out.data(), peer.out.size(), MSG_NOSIGNAL);
    if (n < 0) {
      return errno == EAGAIN || errno == EINTR;
    }
    peer.out.erase(0, static_cast<size_t>(n));
  }
  return true;
}

}  // namespace reactord::client::testing
