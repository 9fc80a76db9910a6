#include "server/listener.h"

#include <fcntl.h>

namespace reactord::server {

void Listener::close() {
  std::lock_guard<std::mutex> lock(mutex_);
  fd_.reset();
  raw_fd_ = -1;
}

common::UniqueFd Listener::duplicate() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return common::UniqueFd(fd_.valid() ? ::fcntl(fd_.get(), F_DUPFD_CLOEXEC, 0) : -1);
}

bool Listener::open() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return fd_.valid();
}

}  // namespace reactord::server
