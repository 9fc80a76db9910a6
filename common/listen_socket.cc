#include "common/listen_socket.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
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

std::string dottedQuad(uint32_t address) {
  in_addr network{htonl(address)};
  char text[INET_ADDRSTRLEN] = {};
  inet_ntop(AF_INET, &network, text, sizeof text);
  return text;
}

// The local IPv4 network (as "a.b.c.d/n") whose broadcast address is `address`, or "".
std::string networkBroadcastingTo(uint32_t address) {
  ifaddrs* interfaces = nullptr;
  if (getifaddrs(&interfaces) != 0) {
    return "";
  }
  std::string network;
  for (const ifaddrs* i = interfaces; i != nullptr && network.empty(); i = i->ifa_next) {
    if (i->ifa_addr == nullptr || i->ifa_netmask == nullptr || i->ifa_addr->sa_family != AF_INET) {
      continue;
    }
    const uint32_t local =
        ntohl(reinterpret_cast<const sockaddr_in*>(i->ifa_addr)->sin_addr.s_addr);
    const uint32_t mask =
        ntohl(reinterpret_cast<const sockaddr_in*>(i->ifa_netmask)->sin_addr.s_addr);
    const int prefix = __builtin_popcount(mask);
    // /31 and /32 networks have no broadcast address (RFC 3021).
    if (prefix <= 30 && (local | ~mask) == address) {
      network = dottedQuad(local & mask) + "/" + std::to_string(prefix) + " on " + i->ifa_name;
    }
  }
  freeifaddrs(interfaces);
  return network;
}

}  // namespace

ListenResult openListenSocket(const SocketAddress& address, int backlog, bool reuse_port) {
  ListenResult result;
  UniqueFd fd(socket(address.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd.valid()) {
    result.error_number = errno;
    result.error = describe("socket() for", address, errno);
    return result;
  }
  if (!setFlag(fd.get(), SOL_SOCKET, SO_REUSEADDR, 1) ||
      (reuse_port && !setFlag(fd.get(), SOL_SOCKET, SO_REUSEPORT, 1)) ||
      (address.isIpv6Any() && !setFlag(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, 0))) {
    result.error_number = errno;
    result.error = describe("setsockopt on listener for", address, errno);
    return result;
  }
  if (bind(fd.get(), address.get(), address.length()) != 0) {
    result.error_number = errno;
    result.error = describe("cannot bind", address, errno);
    return result;
  }
  if (listen(fd.get(), backlog) != 0) {
    result.error_number = errno;
    result.error = describe("cannot listen on", address, errno);
    return result;
  }
  result.fd = std::move(fd);
  return result;
}

std::string unlistenableReason(const SocketAddress& address) {
  if (address.isMulticast()) {
    return "is a multicast address";
  }
  const auto v4 = address.ipv4();
  if (v4 && *v4 == INADDR_BROADCAST) {
    return "is the broadcast address";
  }
  if (v4 && *v4 != INADDR_ANY) {
    const std::string network = networkBroadcastingTo(*v4);
    if (!network.empty()) {
      return "is the broadcast address of the local network " + network;
    }
  }
  return "";
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
