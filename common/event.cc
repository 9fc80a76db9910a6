#include "common/event.h"

#include <glog/logging.h>

#include <cstring>

#include "common/event_base_ptr.h"

namespace reactord::common {

void Event::assign(event_base* base, int fd, short what, event_callback_fn callback, void* owner) {
  reset();
  CHECK_EQ(event_assign(&ev_, base, fd, what, callback, owner), 0) << "event_assign fd=" << fd;
}

void Event::add(const timeval* timeout) {
  CHECK_EQ(event_add(&ev_, timeout), 0) << "event_add fd=" << event_get_fd(&ev_);
}

void Event::remove() {
  if (assigned()) {
    event_del(&ev_);
  }
}

void Event::reset() {
  if (assigned()) {
    event_del(&ev_);
    std::memset(&ev_, 0, sizeof ev_);
  }
}

EventBasePtr makeSingleThreadBase() {
  event_config* config = event_config_new();
  CHECK(config != nullptr) << "event_config_new failed";
  event_config_set_flag(config, EVENT_BASE_FLAG_NOLOCK);
  EventBasePtr base(event_base_new_with_config(config));
  event_config_free(config);
  CHECK(base != nullptr) << "event_base_new_with_config failed";
  return base;
}

}  // namespace reactord::common
