#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/socket_address.h"

namespace reactord::client {

// Which PROXY protocol header a client tool sends first on each connection (--proxy_header), to
// talk to a server that runs with --proxy_protocol as a balancer would.
enum class ProxyHeaderKind {
  kNone,
  kV1,       // "PROXY TCP4|TCP6 ..." text
  kV2,       // binary, PROXY command
  kV2Local,  // binary, LOCAL command: a balancer's health check (the server keeps the real address)
};

// "none", "v1", "v2", "v2-local"; nullopt otherwise.
std::optional<ProxyHeaderKind> parseProxyHeaderKind(std::string_view name);

// The --proxy_header and --proxy_source flags of both tools, validated. A value type.
struct ProxyHeaderOption {
  ProxyHeaderKind kind = ProxyHeaderKind::kNone;
  // The client address the header claims (its port is ignored); nullopt: the connection's own.
  std::optional<common::SocketAddress> source;

  // The header for the connected socket `fd`: it names `source` (or fd's own address) with fd's
  // local port as the client and fd's peer as the destination. Empty for kNone; nullopt when fd's
  // addresses cannot be read (not connected).
  std::optional<std::string> headerFor(int fd) const;
};

// Parses --proxy_source: empty (nullopt inside the result) or a numeric IPv4/IPv6 address;
// false with `error` set otherwise.
bool parseProxySource(const std::string& text, std::optional<common::SocketAddress>* source,
                      std::string* error);

}  // namespace reactord::client
