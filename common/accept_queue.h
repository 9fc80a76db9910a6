#pragma once

#include <cstdint>
#include <optional>

namespace reactord::common {

// The accept queue of a listening TCP socket: connections whose handshake has completed and that
// wait for accept(), and the most the kernel keeps (the listen() backlog, capped by
// net.core.somaxconn). Past the limit the kernel drops new handshakes and counts ListenOverflows.
struct AcceptQueue {
  uint32_t length = 0;
  uint32_t limit = 0;
};

// Reads the queue of `listen_fd` with getsockopt(TCP_INFO): for a socket in LISTEN state the kernel
// reports the queue length in tcpi_unacked and the limit in tcpi_sacked (net/ipv4/tcp.c,
// tcp_get_info). One syscall, no effect on the socket. nullopt when the call fails or the socket
// is not a listening TCP socket. Any thread; the caller keeps the fd open during the call.
std::optional<AcceptQueue> readAcceptQueue(int listen_fd);

}  // namespace reactord::common
