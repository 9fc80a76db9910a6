#include "common/unique_fd.h"

#include <unistd.h>

namespace reactord::common {

void UniqueFd::reset(int fd) {
  if (fd_ >= 0) {
    // Linux closes the fd even when close() fails with EINTR: never retry.
    ::close(fd_);
  }
  fd_ = fd;
}

}  // namespace reactord::common
