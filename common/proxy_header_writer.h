#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/socket_address.h"

namespace reactord::common {

// The sending side of the PROXY protocol (see proxy_header_parser.h), for the client tools and the
// tests: a balancer's header, to be written before any other byte of the connection. Plain
// functions of their arguments; any thread.

// "PROXY TCP4 <src> <dst> <sport> <dport>\r\n", or TCP6. When the families differ, the IPv4
// address is written as IPv4-mapped IPv6 (as HAProxy does), so the line names one family.
std::string proxyHeaderV1(const SocketAddress& source, const SocketAddress& destination);
// "PROXY UNKNOWN\r\n": a sender that cannot name the addresses.
std::string proxyHeaderV1Unknown();
// v2 PROXY over TCP/IPv4 or TCP/IPv6 (the families reconciled as for v1), then `tlvs`, already
// encoded (proxyTlv), counted in the length field.
std::string proxyHeaderV2(const SocketAddress& source, const SocketAddress& destination,
                          std::string_view tlvs = {});
// v2 LOCAL with no address: the balancer's own connection, a health check.
std::string proxyHeaderV2Local();
// One v2 TLV: the type, the value's length on 2 bytes, the value (at most 65535 bytes).
std::string proxyTlv(uint8_t type, std::string_view value);

}  // namespace reactord::common
