#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>

#include "common/socket_address.h"

namespace reactord::common {

// What a running reactord tells a health checker on the same host (the HEALTHCHECK of its
// container) through --status_file: where to connect and how to talk. One line of key=value
// pairs separated by single spaces, ending in '\n':
//
//   address=127.0.0.1:7100 protocol=ack oneshot=0 proxy_protocol=0 pid=123
//
//   address   IP:PORT ("[IPv6]:PORT") that reaches the data listener from the same host: the
//             loopback address of the family for a wildcard bind, else the bound address
//   protocol  echo or ack
//   oneshot   0 or 1
//   proxy_protocol  1 when the server wants a PROXY protocol header first (--proxy_protocol): a
//             checker sends a v2 LOCAL header (the balancer's own health check); 0 or absent: none
//   pid       the server's process id (in its own PID namespace)
//
// The format is a stable interface: keys are only ever added. A reader ignores keys it does not
// know and requires address and protocol. A value type; any thread.
struct ServerStatus {
  SocketAddress address;
  std::string protocol = "echo";
  bool oneshot = false;
  bool proxy_protocol = false;
  pid_t pid = 0;

  // The line, '\n' included.
  std::string format() const;
  // A status line as format() writes it; nullopt with `error` saying what is wrong (a missing
  // '\n' at the end, a token without '=', a repeated key, a bad address, protocol or flag, a
  // missing required key).
  static std::optional<ServerStatus> parse(std::string_view text, std::string* error);
  // The address a checker on the same host connects to for a listener bound to `bound`: for
  // 0.0.0.0 and for "::" (which serves IPv4 too, see listen_socket.h) 127.0.0.1, which works even
  // where IPv6 is disabled (Docker turns it off in containers on IPv4-only networks); else the
  // bound address itself.
  static SocketAddress probeAddressFor(const SocketAddress& bound);
};

}  // namespace reactord::common
