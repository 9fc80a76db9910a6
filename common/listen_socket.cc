#include "common/listen_socket.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

namespace reactord::common {
namespace {

std::string describe(const char* what, const SocketAddress& address, int error) {
  return std::string(what) + " " + address.toString() + ": " + std::strerror(error);
}

bool setFlag(int fd, int level, int name, int value) {
  return setsockopt(fd, level, name, &value, sizeof value) == 0;
}

}  // namespace

ListenResult openListenSocket(const SocketAddress& address, int backlog, bool reuse_port) {
  ListenResult result;
  UniqueFd fd(socket(address.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd.valid()) {
    result.error = describe("socket() for", address, errno);
    return result;
  }
  if (!setFlag(fd.get(), SOL_SOCKET, SO_REUSEADDR, 1) ||
      (reuse_port && !setFlag(fd.get(), SOL_SOCKET, SO_REUSEPORT, 1)) ||
      (address.isIpv6Any() && !setFlag(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, 0))) {
    result.error = describe("setsockopt on listener for", address, errno);
    return result;
  }
  if (bind(fd.get(), address.get(), address.length()) != 0) {
    result.error = describe("cannot bind", address, errno);
    return result;
  }
  if (listen(fd.get(), backlog) != 0) {
    result.error = describe("cannot listen on", address, errno);
    return result;
  }
  result.fd = std::move(fd);
  return result;
}

bool addressInUse(const SocketAddress& address, std::string* error) {
  UniqueFd probe(socket(address.family(), SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!probe.valid()) {
    return false;  // the real bind reports the problem
  }
  setFlag(probe.get(), SOL_SOCKET, SO_REUSEADDR, 1);  // TIME_WAIT leftovers are no conflict
  if (address.isIpv6Any()) {
    setFlag(probe.get(), IPPROTO_IPV6, IPV6_V6ONLY, 0);
  }
  if (bind(probe.get(), address.get(), address.length()) == 0 || errno != EADDRINUSE) {
    return false;
  }
  *error = "address " + address.toString() +
           " is already in use (another process listens there; SO_REUSEPORT would let this one "
           "silently share its traffic, so it refuses to start)";
  return true;
}

}  // namespace reactord::common
