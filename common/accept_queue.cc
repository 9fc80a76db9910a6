#include "common/accept_queue.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cstddef>

namespace reactord::common {

std::optional<AcceptQueue> readAcceptQueue(int listen_fd) {
  tcp_info info{};
  socklen_t length = sizeof info;
  if (getsockopt(listen_fd, IPPROTO_TCP, TCP_INFO, &info, &length) != 0 ||
      length < offsetof(tcp_info, tcpi_sacked) + sizeof info.tcpi_sacked ||
      info.tcpi_state != TCP_LISTEN) {
    return std::nullopt;
  }
  return AcceptQueue{info.tcpi_unacked, info.tcpi_sacked};
}

}  // namespace reactord::common
