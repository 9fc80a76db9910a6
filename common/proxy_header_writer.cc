#include "common/proxy_header_writer.h"

#include <netinet/in.h>

#include <cstring>

#include "common/proxy_header_parser.h"

namespace reactord::common {
namespace {

// `address` as IPv6: itself, or ::ffff:a.b.c.d for an IPv4 one.
SocketAddress asIpv6(const SocketAddress& address) {
  if (address.family() == AF_INET6) {
    return address;
  }
  const auto* v4 = reinterpret_cast<const sockaddr_in*>(address.get());
  sockaddr_storage storage{};
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&storage);
  v6->sin6_family = AF_INET6;
  v6->sin6_port = v4->sin_port;
  v6->sin6_addr.s6_addr[10] = 0xff;
  v6->sin6_addr.s6_addr[11] = 0xff;
  std::memcpy(&v6->sin6_addr.s6_addr[12], &v4->sin_addr, 4);
  return SocketAddress::of(storage);
}

void appendBigEndian16(std::string* out, size_t value) {
  out->push_back(static_cast<char>((value >> 8) & 0xff));
  out->push_back(static_cast<char>(value & 0xff));
}

void appendIpBytes(std::string* out, const SocketAddress& address) {
  if (address.family() == AF_INET) {
    out->append(reinterpret_cast<const char*>(
                    &reinterpret_cast<const sockaddr_in*>(address.get())->sin_addr),
                4);
  } else {
    out->append(reinterpret_cast<const char*>(
                    &reinterpret_cast<const sockaddr_in6*>(address.get())->sin6_addr),
                16);
  }
}

}  // namespace

std::string proxyHeaderV1(const SocketAddress& source, const SocketAddress& destination) {
  const bool v6 = source.family() == AF_INET6 || destination.family() == AF_INET6;
  const SocketAddress from = v6 ? asIpv6(source) : source;
  const SocketAddress to = v6 ? asIpv6(destination) : destination;
  return std::string(kProxyV1Prefix) + (v6 ? "TCP6 " : "TCP4 ") + from.ipString() + " " +
         to.ipString() + " " + std::to_string(from.port()) + " " + std::to_string(to.port()) +
         "\r\n";
}

std::string proxyHeaderV1Unknown() { return std::string(kProxyV1Prefix) + "UNKNOWN\r\n"; }

std::string proxyHeaderV2(const SocketAddress& source, const SocketAddress& destination,
                          std::string_view tlvs) {
  const bool v6 = source.family() == AF_INET6 || destination.family() == AF_INET6;
  const SocketAddress from = v6 ? asIpv6(source) : source;
  const SocketAddress to = v6 ? asIpv6(destination) : destination;
  std::string header(kProxyV2Signature);
  header.push_back('\x21');                // version 2, PROXY
  header.push_back(v6 ? '\x21' : '\x11');  // TCP over IPv6 or IPv4
  appendBigEndian16(&header, (v6 ? 36 : 12) + tlvs.size());
  appendIpBytes(&header, from);
  appendIpBytes(&header, to);
  appendBigEndian16(&header, from.port());
  appendBigEndian16(&header, to.port());
  header.append(tlvs);
  return header;
}

std::string proxyHeaderV2Local() {
  std::string header(kProxyV2Signature);
  header.push_back('\x20');  // version 2, LOCAL
  header.push_back('\x00');  // AF_UNSPEC, UNSPEC
  appendBigEndian16(&header, 0);
  return header;
}

std::string proxyTlv(uint8_t type, std::string_view value) {
  std::string tlv(1, static_cast<char>(type));
  appendBigEndian16(&tlv, value.size());
  tlv.append(value);
  return tlv;
}

}  // namespace reactord::common
