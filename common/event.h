#pragma once

#include <event2/event.h>
#include <event2/event_struct.h>

namespace reactord::common {

// One libevent event embedded in its owner: no heap allocation, so an idle connection costs only
// the bytes of its owner. RAII: the destructor removes the event from its base, which must still be
// alive. Loop-thread-only: assigned, added, activated and destroyed on the thread that runs its
// base (or after that thread was joined).
class Event {
 public:
  Event() = default;
  ~Event() { reset(); }
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;

  // Binds the event to `base`. `fd` is -1 for a timer. The callback's `arg` is `owner`.
  void assign(event_base* base, int fd, short what, event_callback_fn callback, void* owner);
  // Makes the event pending, with a timeout when `timeout` is not null. Aborts on failure, which
  // libevent reports only for programming errors or a failed epoll_ctl (ENOMEM).
  void add(const timeval* timeout = nullptr);
  // Makes the event not pending; it stays assigned.
  void remove();
  // Runs the callback on a later pass of the loop, with `what` as its events.
  void activate(short what) { event_active(&ev_, what, 0); }
  bool assigned() const { return event_initialized(&ev_) != 0; }
  int fd() const { return event_get_fd(&ev_); }
  // Removes the event and forgets its assignment.
  void reset();

 private:
  struct event ev_ {};
};

}  // namespace reactord::common
