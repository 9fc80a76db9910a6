#include "client/reactor_bench/precise_timer_base.h"

#include <glog/logging.h>

namespace reactord::client {

common::EventBasePtr makePreciseTimerBase() {
  event_config* config = event_config_new();
  CHECK(config != nullptr) << "event_config_new failed";
  event_config_set_flag(config, EVENT_BASE_FLAG_NOLOCK | EVENT_BASE_FLAG_PRECISE_TIMER);
  common::EventBasePtr base(event_base_new_with_config(config));
  event_config_free(config);
  CHECK(base != nullptr) << "event_base_new_with_config failed";
  return base;
}

}  // namespace reactord::client
