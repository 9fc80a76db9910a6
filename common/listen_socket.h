#pragma once

#include <string>

#include "common/socket_address.h"
#include "common/unique_fd.h"

namespace reactord::common {

struct ListenResult {
  UniqueFd fd;           // valid on success
  std::string error;     // on failure: what failed, with the address and the errno text
  int error_number = 0;  // on failure: the errno value
};

// Opens a non-blocking listening TCP socket on `address` with SO_REUSEADDR, and SO_REUSEPORT when
// `reuse_port` is set. An IPv6 wildcard ("::") also serves IPv4 (IPV6_V6ONLY off). Any thread.
ListenResult openListenSocket(const SocketAddress& address, int backlog, bool reuse_port);

// Why TCP cannot take connections on `address`, although bind() and listen() succeed there on
// Linux: a multicast address, the limited broadcast 255.255.255.255, or the broadcast address of
// one of this host's IPv4 networks (127.255.255.255 on lo, say). Empty when there is no such
// reason. Any thread.
std::string unlistenableReason(const SocketAddress& address);

// True when something already listens on `address` (its port must not be 0). It binds a probe
// socket without SO_REUSEPORT: that bind fails with EADDRINUSE even when the listener there uses
// SO_REUSEPORT, which would otherwise let a second server silently join the group and take a share
// of the traffic. `error` gets the reason when it returns true.
bool addressInUse(const SocketAddress& address, std::string* error);

}  // namespace reactord::common
