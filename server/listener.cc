#include "server/listener.h"

namespace reactord::server {

void Listener::close() {
  std::lock_guard<std::mutex> lock(mutex_);
  fd_.reset();
  raw_fd_ = -1;
}

bool Listener::open() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return fd_.valid();
}

}  // namespace reactord::server
