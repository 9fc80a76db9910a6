#include "server/startup_error.h"

#include <sys/resource.h>

#include <cerrno>
#include <cstring>
#include <system_error>
#include <utility>

namespace reactord::server {
namespace {

std::string limitText(int resource) {
  rlimit limit{};
  if (getrlimit(resource, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) {
    return "unlimited";
  }
  return std::to_string(limit.rlim_cur);
}

}  // namespace

std::string resourceHint(int error) {
  switch (error) {
    case EMFILE:
      // Measured with libevent 2.1: a worker holds its listener, epoll, a signal pipe (2) and an
      // eventfd; the admin endpoint the same with its wake-up eventfd instead.
      return "; the open-file limit (ulimit -n) is " + limitText(RLIMIT_NOFILE) +
             ": raise it, or use fewer --workers (each worker and the admin endpoint hold 5 "
             "descriptors, each connection 1)";
    case ENFILE:
      return "; the system's table of open files is full (fs.file-max): close files elsewhere or "
             "raise it";
    case EAGAIN:
      return "; the limit on threads (ulimit -u, " + limitText(RLIMIT_NPROC) +
             ") or on address space (ulimit -v, " + limitText(RLIMIT_AS) +
             ") is reached: raise it, or use fewer --workers";
    case ENOMEM:
      return "; out of memory (address-space limit, ulimit -v, " + limitText(RLIMIT_AS) +
             "): raise it, free memory, or use fewer --workers";
    default:
      return "";
  }
}

bool startThread(std::thread* thread, std::function<void()> body, const std::string& what,
                 std::string* error) {
  try {
    *thread = std::thread(std::move(body));
  } catch (const std::system_error& e) {
    *error = "cannot start the thread of " + what + ": " + std::strerror(e.code().value()) +
             resourceHint(e.code().value());
    return false;
  }
  return true;
}

}  // namespace reactord::server
