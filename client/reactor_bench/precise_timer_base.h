#pragma once

#include "common/event_base_ptr.h"

namespace reactord::client {

// Like makeSingleThreadBase() (EVENT_BASE_FLAG_NOLOCK, one thread drives it), plus
// EVENT_BASE_FLAG_PRECISE_TIMER: timers use a timerfd with microsecond precision, where plain epoll
// rounds every timeout up to whole milliseconds. Costs a timerfd_settime per loop pass, so only
// for loops that must act on time, such as an open-loop load generator. Aborts with a message when
// libevent cannot make one.
common::EventBasePtr makePreciseTimerBase();

}  // namespace reactord::client
