#pragma once

#include <event2/http.h>

#include <memory>

namespace reactord::common {

struct EvhttpDeleter {
  void operator()(evhttp* http) const { evhttp_free(http); }
};
// Owns an evhttp server: its listening sockets and its open requests. evhttp has no locking:
// create, use and free it on the thread that runs its base (or after that thread was joined), and
// declare it after the base so that it is destroyed first.
using EvhttpPtr = std::unique_ptr<evhttp, EvhttpDeleter>;

}  // namespace reactord::common
