#pragma once

#include <event2/event.h>

#include <memory>
#include <string>

namespace reactord::common {

struct EventBaseDeleter {
  void operator()(event_base* base) const { event_base_free(base); }
};
// Owns an event_base. Declare it before every event that uses it, so that it is destroyed last.
using EventBasePtr = std::unique_ptr<event_base, EventBaseDeleter>;

enum class BaseLocking {
  // Driven by one thread only (EVENT_BASE_FLAG_NOLOCK, as in memcached's workers): no lock is
  // taken per callback. Other threads reach it through their own queue and a wake-up fd, never by
  // calling libevent on it.
  kSingleThread,
  // With locks (evthread_use_pthreads must have run): another thread may call
  // event_base_loopexit on it.
  kLocked,
};

// A base on epoll, with edge triggers and EV_CLOSED, which the connections rely on: never
// libevent's poll or select fallback. Null with `error` saying what was short when it cannot be
// made, and errno set to the cause. libevent 2.1 ends the process (exit 1, no message of ours) when
// it cannot open a new base's signal pipe, so this first checks that the descriptors a base needs
// can be opened. Any thread.
EventBasePtr makeEventBase(BaseLocking locking, std::string* error);

// makeEventBase(kSingleThread); aborts with the reason when it fails. For tools, not the server.
EventBasePtr makeSingleThreadBase();

}  // namespace reactord::common
