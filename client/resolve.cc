#include "client/resolve.h"

#include <netdb.h>

#include <memory>

namespace reactord::client {

std::optional<common::SocketAddress> resolveAddress(const std::string& host, uint16_t port,
                                                    std::string* error) {
  if (auto literal = common::SocketAddress::parse(host, port)) {
    return literal;
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const int rc = getaddrinfo(host.c_str(), nullptr, &hints, &found);
  if (rc != 0) {
    *error = "cannot resolve host '" + host + "': " + gai_strerror(rc);
    return std::nullopt;
  }
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> owner(found, &freeaddrinfo);
  for (const addrinfo* info = found; info != nullptr; info = info->ai_next) {
    char ip[NI_MAXHOST];
    if (getnameinfo(info->ai_addr, info->ai_addrlen, ip, sizeof ip, nullptr, 0, NI_NUMERICHOST) ==
        0) {
      if (auto address = common::SocketAddress::parse(ip, port)) {
        return address;
      }
    }
  }
  *error = "host '" + host + "' has no IPv4 or IPv6 address";
  return std::nullopt;
}

}  // namespace reactord::client
