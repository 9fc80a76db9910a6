#include "common/event.h"

#include <glog/logging.h>
#include <sys/eventfd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "common/event_base_ptr.h"
#include "common/unique_fd.h"

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

namespace {

// epoll, and the two ends of the signal pipe every 2.1 base opens; a locked base also opens an
// eventfd to be woken by other threads (counted for both).
constexpr int kDescriptorsPerBase = 4;

// Opens and closes `count` descriptors; false with errno set when one cannot be opened.
bool descriptorsAvailable(int count) {
  std::vector<UniqueFd> probes;
  for (int i = 0; i < count; ++i) {
    probes.emplace_back(eventfd(0, EFD_CLOEXEC));
    if (!probes.back().valid()) {
      return false;
    }
  }
  return true;
}

}  // namespace

EventBasePtr makeEventBase(BaseLocking locking, std::string* error) {
  if (!descriptorsAvailable(kDescriptorsPerBase)) {
    const int failure = errno;
    *error = std::string("cannot open the ") + std::to_string(kDescriptorsPerBase) +
             " descriptors of an event loop (epoll, its signal pipe, its wake-up eventfd): " +
             std::strerror(failure);
    errno = failure;
    return nullptr;
  }
  std::unique_ptr<event_config, decltype(&event_config_free)> config(event_config_new(),
                                                                     &event_config_free);
  if (config == nullptr) {
    *error = "event_config_new failed (out of memory)";
    errno = ENOMEM;
    return nullptr;
  }
  if (locking == BaseLocking::kSingleThread) {
    event_config_set_flag(config.get(), EVENT_BASE_FLAG_NOLOCK);
  }
  event_config_require_features(config.get(),
                                EV_FEATURE_ET | EV_FEATURE_O1 | EV_FEATURE_EARLY_CLOSE);
  EventBasePtr base(event_base_new_with_config(config.get()));
  if (base == nullptr) {
    const int failure = errno;
    *error = std::string("cannot create an epoll event loop (event_base_new_with_config): ") +
             std::strerror(failure);
    errno = failure;
  }
  return base;
}

EventBasePtr makeSingleThreadBase() {
  std::string error;
  EventBasePtr base = makeEventBase(BaseLocking::kSingleThread, &error);
  CHECK(base != nullptr) << error;
  return base;
}

}  // namespace reactord::common
