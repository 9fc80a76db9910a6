#include "server/loop_lag_probe.h"

#include <glog/logging.h>
#include <unistd.h>

#include <algorithm>

namespace reactord::server {
namespace {

using std::chrono::duration_cast;
using std::chrono::microseconds;

constexpr std::chrono::milliseconds kLongestPeriod{50};

uint64_t toMicros(std::chrono::milliseconds value) {
  return static_cast<uint64_t>(duration_cast<microseconds>(value).count());
}

}  // namespace

LoopLagProbe::Clock::duration LoopLagProbe::periodFor(std::chrono::milliseconds miss) {
  return std::clamp<Clock::duration>(miss / 4, std::chrono::milliseconds(1), kLongestPeriod);
}

LoopLagProbe::LoopLagProbe(event_base* base, std::chrono::milliseconds miss,
                           std::chrono::milliseconds megamiss, WorkerStats& stats)
    : base_(base),
      period_(periodFor(miss)),
      miss_us_(toMicros(miss)),
      megamiss_us_(toMicros(megamiss)),
      stats_(stats) {
  timer_.assign(base_, -1, 0, &LoopLagProbe::onTimer, this);
}

void LoopLagProbe::start() {
  arm();  // before the thread id: a reader that sees the id sees a due time
  thread_id_.store(gettid(), std::memory_order_release);
}

void LoopLagProbe::onTimer(int /*fd*/, short /*what*/, void* self) {
  static_cast<LoopLagProbe*>(self)->run();
}

void LoopLagProbe::run() {
  const Clock::duration late = std::max(Clock::now() - due_local_, Clock::duration::zero());
  const uint64_t lag_us = static_cast<uint64_t>(duration_cast<microseconds>(late).count());
  stats_.loop_lag_us.record(lag_us);
  if (lag_us > miss_us_) {
    stats_.loop_miss.add();
    if (lag_us > megamiss_us_) {
      stats_.loop_mega_miss.add();
    }
  }
  recent_lags_.push(lag_us);
  arm();
}

void LoopLagProbe::arm() {
  // libevent times a timer from the time it cached when this loop pass began; refresh it so that
  // the timer is due exactly one period from now, as recorded.
  event_base_update_cache_time(base_);
  due_local_ = Clock::now() + period_;
  due_.store(due_local_.time_since_epoch().count(), std::memory_order_release);
  const auto period_us = duration_cast<microseconds>(period_).count();
  const timeval timeout{static_cast<time_t>(period_us / 1000000),
                        static_cast<suseconds_t>(period_us % 1000000)};
  timer_.add(&timeout);
}

}  // namespace reactord::server
