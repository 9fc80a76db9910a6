// A plain libevent echo server (RFC 862), the way libevent's own documentation writes one: an
// evconnlistener, one bufferevent per connection, and a read callback that moves the input buffer
// to the output buffer. Single-threaded, no limits, no stats: the baseline reactord is built on.
//
// usage: bufferevent_echo PORT   (0 picks a free port) on 127.0.0.1; prints "listening on
// ADDR:PORT" to stderr once it accepts. SIGTERM or SIGINT end the loop; open connections are left
// to the kernel to close at exit.
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <memory>

#include "common/socket_address.h"

namespace reactord::bench {
namespace {

struct BaseDeleter {
  void operator()(event_base* base) const { event_base_free(base); }
};
struct ListenerDeleter {
  void operator()(evconnlistener* listener) const { evconnlistener_free(listener); }
};
struct EventDeleter {
  void operator()(event* ev) const { event_free(ev); }
};

void onRead(bufferevent* bev, void* /*arg*/) {
  bufferevent_write_buffer(bev, bufferevent_get_input(bev));
}

void onEvent(bufferevent* bev, short what, void* /*arg*/) {
  if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
    bufferevent_free(bev);  // BEV_OPT_CLOSE_ON_FREE closes the socket
  }
}

void onAccept(evconnlistener* listener, evutil_socket_t fd, sockaddr* /*peer*/, int /*len*/,
              void* /*arg*/) {
  const int one = 1;  // as reactord, Go, Node.js and uvloop do: no Nagle delay on short writes
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  bufferevent* bev =
      bufferevent_socket_new(evconnlistener_get_base(listener), fd, BEV_OPT_CLOSE_ON_FREE);
  if (bev == nullptr) {
    evutil_closesocket(fd);
    return;
  }
  bufferevent_setcb(bev, onRead, nullptr, onEvent, nullptr);
  bufferevent_enable(bev, EV_READ | EV_WRITE);
}

void onStop(evutil_socket_t /*signal*/, short /*what*/, void* base) {
  event_base_loopexit(static_cast<event_base*>(base), nullptr);
}

}  // namespace
}  // namespace reactord::bench

int main(int argc, char** argv) {
  using namespace reactord;
  const long port = argc == 2 ? std::strtol(argv[1], nullptr, 10) : -1;
  if (port < 0 || port > 65535) {
    std::fprintf(stderr, "usage: bufferevent_echo PORT   (0 picks a free port; on 127.0.0.1)\n");
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  const auto address = common::SocketAddress::parse("127.0.0.1", static_cast<uint16_t>(port));
  // Declared first, destroyed last.
  std::unique_ptr<event_base, bench::BaseDeleter> base(event_base_new());
  std::unique_ptr<evconnlistener, bench::ListenerDeleter> listener(evconnlistener_new_bind(
      base.get(), bench::onAccept, nullptr, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, -1,
      address->get(), static_cast<int>(address->length())));
  if (!listener) {
    std::perror(("bufferevent_echo: cannot listen on " + address->toString()).c_str());
    return 1;
  }
  std::unique_ptr<event, bench::EventDeleter> term(
      evsignal_new(base.get(), SIGTERM, bench::onStop, base.get()));
  std::unique_ptr<event, bench::EventDeleter> interrupt(
      evsignal_new(base.get(), SIGINT, bench::onStop, base.get()));
  event_add(term.get(), nullptr);
  event_add(interrupt.get(), nullptr);
  const auto bound = common::SocketAddress::localOf(evconnlistener_get_fd(listener.get()));
  std::fprintf(stderr, "bufferevent_echo: listening on %s\n", bound->toString().c_str());
  event_base_dispatch(base.get());
  return 0;
}
