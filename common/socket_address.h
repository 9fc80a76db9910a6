#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace reactord::common {

// An IPv4 or IPv6 address and port. A value type; any thread.
class SocketAddress {
 public:
  // Parses a numeric address ("0.0.0.0", "127.0.0.1", "::", "::1"); nullopt when it is neither
  // IPv4 nor IPv6.
  static std::optional<SocketAddress> parse(std::string_view ip, uint16_t port);
  // The address a socket is bound to (getsockname), or nullopt when the call fails.
  static std::optional<SocketAddress> localOf(int fd);
  // The address a socket is connected to (getpeername), or nullopt when the call fails.
  static std::optional<SocketAddress> peerOf(int fd);
  // The address accept() or recvfrom() filled in (IPv4 or IPv6).
  static SocketAddress of(const sockaddr_storage& storage);

  int family() const { return storage_.ss_family; }
  uint16_t port() const;
  void setPort(uint16_t port);
  // "1.2.3.4:80" or "[::1]:80".
  std::string toString() const;
  // The IP alone, without the port: "1.2.3.4" or "::1".
  std::string ipString() const;
  bool isIpv6Any() const;
  // 224.0.0.0/4 or ff00::/8, also as an IPv4-mapped IPv6 address.
  bool isMulticast() const;
  // The IPv4 address in host byte order, also from an IPv4-mapped IPv6 address (::ffff:a.b.c.d);
  // nullopt for any other IPv6 address.
  std::optional<uint32_t> ipv4() const;

  const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&storage_); }
  socklen_t length() const;

 private:
  sockaddr_storage storage_{};
};

}  // namespace reactord::common
