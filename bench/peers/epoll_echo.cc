// The per-core reference for bench/: a minimal single-threaded epoll echo server (RFC 862).
// Level-triggered; each readiness event gets one read() and one write(), nothing else: no timers,
// no limits, no stats, no logging. When a write comes back short, the rest is kept and the socket
// waits for EPOLLOUT instead of EPOLLIN until it is sent, so a slow reader cannot grow the buffer.
// The one frill: TCP_NODELAY, which every other server of bench/ sets too; without it, the tail of
// a short write waits for a delayed ACK and bulk echo stalls for tens of milliseconds at a time.
//
// usage: epoll_echo PORT   (0 picks a free port) on 127.0.0.1; prints "listening on ADDR:PORT" to
// stderr once it accepts. Stops on SIGTERM or SIGINT (default action: nothing to drain).
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <unordered_map>

#include "common/listen_socket.h"
#include "common/socket_address.h"
#include "common/unique_fd.h"

namespace reactord::bench {
namespace {

using common::UniqueFd;

// One accepted socket and what it could not write yet.
struct Connection {
  UniqueFd fd;
  std::string pending;
};

class EpollEcho {
 public:
  explicit EpollEcho(UniqueFd listener) : epoll_(epoll_create1(EPOLL_CLOEXEC)) {
    if (!epoll_.valid()) {
      std::perror("epoll_create1");
      std::exit(1);
    }
    listener_ = std::move(listener);
    watch(EPOLL_CTL_ADD, listener_.get(), EPOLLIN);
  }

  [[noreturn]] void run() {
    epoll_event events[256];
    for (;;) {
      const int n = epoll_wait(epoll_.get(), events, 256, -1);
      for (int i = 0; i < n; ++i) {
        const int fd = events[i].data.fd;
        if (fd == listener_.get()) {
          acceptOne();
        } else {
          onReady(fd, events[i].events);
        }
      }
    }
  }

 private:
  void watch(int op, int fd, uint32_t events) {
    epoll_event event{};
    event.events = events;
    event.data.fd = fd;
    if (epoll_ctl(epoll_.get(), op, fd, &event) != 0) {
      std::perror("epoll_ctl");
      std::exit(1);
    }
  }

  void acceptOne() {
    const int fd = accept4(listener_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      return;  // EAGAIN, ECONNABORTED, EMFILE: the next readiness event tries again
    }
    connections_[fd].fd.reset(fd);
    const int one = 1;  // as reactord, Go, Node.js and uvloop do: no Nagle delay on short writes
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    watch(EPOLL_CTL_ADD, fd, EPOLLIN);
  }

  void onReady(int fd, uint32_t events) {
    Connection& connection = connections_[fd];
    ssize_t wrote = 0;
    if (!connection.pending.empty()) {
      wrote = send(fd, connection.pending.data(), connection.pending.size(), MSG_NOSIGNAL);
      if (wrote > 0) {
        connection.pending.erase(0, wrote);
        if (connection.pending.empty()) {
          watch(EPOLL_CTL_MOD, fd, EPOLLIN);
        }
      }
    } else if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
      const ssize_t got = read(fd, buffer_, sizeof buffer_);
      if (got == 0 || (got < 0 && errno != EAGAIN && errno != EINTR)) {
        connections_.erase(fd);  // closing the fd also removes it from the epoll set
        return;
      }
      wrote = got > 0 ? send(fd, buffer_, got, MSG_NOSIGNAL) : 0;
      if (wrote >= 0 && wrote < got) {
        connection.pending.assign(buffer_ + wrote, got - wrote);
        watch(EPOLL_CTL_MOD, fd, EPOLLOUT);
      }
    }
    if (wrote < 0 && errno != EAGAIN && errno != EINTR) {
      connections_.erase(fd);
    }
  }

  UniqueFd epoll_;
  UniqueFd listener_;
  std::unordered_map<int, Connection> connections_;
  char buffer_[64 * 1024];
};

}  // namespace
}  // namespace reactord::bench

int main(int argc, char** argv) {
  using namespace reactord;
  const long port = argc == 2 ? std::strtol(argv[1], nullptr, 10) : -1;
  if (port < 0 || port > 65535) {
    std::fprintf(stderr, "usage: epoll_echo PORT   (0 picks a free port; listens on 127.0.0.1)\n");
    return 2;
  }
  const auto address = common::SocketAddress::parse("127.0.0.1", static_cast<uint16_t>(port));
  common::ListenResult listen = common::openListenSocket(*address, SOMAXCONN, false);
  if (!listen.fd.valid()) {
    std::fprintf(stderr, "epoll_echo: %s\n", listen.error.c_str());
    return 1;
  }
  const auto bound = common::SocketAddress::localOf(listen.fd.get());
  std::fprintf(stderr, "epoll_echo: listening on %s\n", bound->toString().c_str());
  static bench::EpollEcho server(std::move(listen.fd));  // static: 64 KiB buffer off the stack
  server.run();
}
