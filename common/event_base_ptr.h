#pragma once

#include <event2/event.h>

#include <memory>

namespace reactord::common {

struct EventBaseDeleter {
  void operator()(event_base* base) const { event_base_free(base); }
};
// Owns an event_base. Declare it before every event that uses it, so that it is destroyed last.
using EventBasePtr = std::unique_ptr<event_base, EventBaseDeleter>;

// A base driven by one thread only (EVENT_BASE_FLAG_NOLOCK, as in memcached's workers): no lock is
// taken per callback. Other threads reach it through their own queue and a wake-up fd, never by
// calling libevent on it. Aborts with a message when libevent cannot make one.
EventBasePtr makeSingleThreadBase();

}  // namespace reactord::common
