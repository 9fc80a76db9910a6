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

std::optional<common::AcceptQueue> Listener::acceptQueue() const {
  std::unique_lock<std::mutex> lock(mutex_, std::try_to_lock);
  if (!lock.owns_lock() || !fd_.valid()) {
    return std::nullopt;
  }
  return common::readAcceptQueue(fd_.get());
}

}  // namespace reactord::server
