#include "common/socket_address.h"

#include <arpa/inet.h>

#include <cstring>

namespace reactord::common {

std::optional<SocketAddress> SocketAddress::parse(std::string_view ip, uint16_t port) {
  SocketAddress address;
  const std::string text(ip);
  auto* v4 = reinterpret_cast<sockaddr_in*>(&address.storage_);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&address.storage_);
  if (inet_pton(AF_INET, text.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
  } else if (inet_pton(AF_INET6, text.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
  } else {
    return std::nullopt;
  }
  address.setPort(port);
  return address;
}

std::optional<SocketAddress> SocketAddress::localOf(int fd) {
  SocketAddress address;
  socklen_t length = sizeof address.storage_;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&address.storage_), &length) != 0) {
    return std::nullopt;
  }
  return address;
}

std::optional<SocketAddress> SocketAddress::peerOf(int fd) {
  SocketAddress address;
  socklen_t length = sizeof address.storage_;
  if (getpeername(fd, reinterpret_cast<sockaddr*>(&address.storage_), &length) != 0) {
    return std::nullopt;
  }
  return address;
}

SocketAddress SocketAddress::of(const sockaddr_storage& storage) {
  SocketAddress address;
  address.storage_ = storage;
  return address;
}

uint16_t SocketAddress::port() const {
  if (family() == AF_INET6) {
    return ntohs(reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_port);
  }
  return ntohs(reinterpret_cast<const sockaddr_in*>(&storage_)->sin_port);
}

void SocketAddress::setPort(uint16_t port) {
  if (family() == AF_INET6) {
    reinterpret_cast<sockaddr_in6*>(&storage_)->sin6_port = htons(port);
  } else {
    reinterpret_cast<sockaddr_in*>(&storage_)->sin_port = htons(port);
  }
}

std::string SocketAddress::ipString() const {
  char text[INET6_ADDRSTRLEN] = {};
  if (family() == AF_INET6) {
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_addr, text,
              sizeof text);
  } else {
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&storage_)->sin_addr, text,
              sizeof text);
  }
  return text;
}

std::string SocketAddress::toString() const {
  const std::string port_text = std::to_string(port());
  if (family() == AF_INET6) {
    return "[" + ipString() + "]:" + port_text;
  }
  return ipString() + ":" + port_text;
}

bool SocketAddress::isIpv6Any() const {
  return family() == AF_INET6 &&
         IN6_IS_ADDR_UNSPECIFIED(&reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_addr);
}

std::optional<uint32_t> SocketAddress::ipv4() const {
  if (family() == AF_INET) {
    return ntohl(reinterpret_cast<const sockaddr_in*>(&storage_)->sin_addr.s_addr);
  }
  const in6_addr& v6 = reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_addr;
  if (family() == AF_INET6 && IN6_IS_ADDR_V4MAPPED(&v6)) {
    uint32_t v4;
    std::memcpy(&v4, &v6.s6_addr[12], sizeof v4);
    return ntohl(v4);
  }
  return std::nullopt;
}

bool SocketAddress::isMulticast() const {
  if (const auto v4 = ipv4()) {
    return (*v4 >> 28) == 0xe;  // 224.0.0.0/4
  }
  return family() == AF_INET6 &&
         IN6_IS_ADDR_MULTICAST(&reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_addr);
}

socklen_t SocketAddress::length() const {
  return family() == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
}

}  // namespace reactord::common
