#include "client/shared/resolve.h"

#include <netdb.h>

#include <memory>

namespace reactord::client {

std::vector<common::SocketAddress> resolveAddresses(const std::string& host, uint16_t port,
                                                    std::string* error) {
  if (auto literal = common::SocketAddress::parse(host, port)) {
    return {*literal};
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const int rc = getaddrinfo(host.c_str(), nullptr, &hints, &found);
  if (rc != 0) {
    *error = "cannot resolve host '" + host + "': " + gai_strerror(rc);
    return {};
  }
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> owner(found, &freeaddrinfo);
  std::vector<common::SocketAddress> addresses;
  for (const addrinfo* info = found; info != nullptr; info = info->ai_next) {
    char ip[NI_MAXHOST];
    if (getnameinfo(info->ai_addr, info->ai_addrlen, ip, sizeof ip, nullptr, 0, NI_NUMERICHOST) ==
        0) {
      if (auto address = common::SocketAddress::parse(ip, port)) {
        addresses.push_back(*address);
      }
    }
  }
  if (addresses.empty()) {
    *error = "host '" + host + "' has no IPv4 or IPv6 address";
  }
  return addresses;
}

std::optional<common::SocketAddress> resolveAddress(const std::string& host, uint16_t port,
                                                    std::string* error) {
  std::vector<common::SocketAddress> addresses = resolveAddresses(host, port, error);
  if (addresses.empty()) {
    return std::nullopt;
  }
  return addresses.front();
}

}  // namespace reactord::client
