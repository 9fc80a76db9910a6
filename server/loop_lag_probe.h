#pragma once

#include <event2/event.h>
#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstdint>

#include "common/event.h"
#include "common/sample_ring.h"
#include "server/worker_stats.h"

namespace reactord::server {

// Measures how late a worker's loop runs, on the worker's own thread, for the stats and for the
// supervisor's watchdog: a one-shot timer, re-armed every time it runs, that records how long
// after it was due its callback ran. A loop that runs finds it on time (within the timer's
// resolution); a loop stuck in a callback, or a thread that is not scheduled, runs it late by the
// length of the stall. Each lag goes into the worker's loop_lag_us histogram, loop_miss and
// loop_mega_miss, and a ring of recent lags.
//
// Why a timer on the worker rather than a probe posted by the supervisor: it costs the worker no
// syscall (the timer only shortens epoll_wait's timeout; the clock is read through the vDSO) and no
// lock, while a posted probe costs a lock, an eventfd write and read and a wake-up per check; and
// it measures the loop alone, not the supervisor's own scheduling. The supervisor still learns
// of a stall while it lasts, without touching the worker: the probe publishes when it is due next,
// and a due time in the past is a loop that has not come round.
//
// Owned by its Worker and constructed on the main thread with the worker's base; start(), the
// timer and destruction belong to the worker's thread (or to any thread once it was joined); the
// accessors marked thread-safe may be read by any thread.
class LoopLagProbe {
 public:
  using Clock = std::chrono::steady_clock;

  // How often the probe runs for a miss threshold: a quarter of it, at most 50 ms, so that a stall
  // past the threshold never falls between two probes.
  static Clock::duration periodFor(std::chrono::milliseconds miss);

  LoopLagProbe(event_base* base, std::chrono::milliseconds miss, std::chrono::milliseconds megamiss,
               WorkerStats& stats);
  LoopLagProbe(const LoopLagProbe&) = delete;
  LoopLagProbe& operator=(const LoopLagProbe&) = delete;

  // Loop-thread-only, before the loop runs: notes the thread and arms the first probe.
  void start();

  // Thread-safe: when the pending probe is due (the epoch of Clock before start()). A due time in
  // the past means the loop has not come round since.
  Clock::time_point due() const {
    return Clock::time_point(Clock::duration(due_.load(std::memory_order_acquire)));
  }
  // Thread-safe: the worker thread's kernel id (0 before start()), for a signal aimed at it.
  pid_t threadId() const { return thread_id_.load(std::memory_order_acquire); }
  // Thread-safe: the recent lags, in microseconds (see SampleRing for reading them).
  const common::SampleRing<64>& recentLags() const { return recent_lags_; }
  Clock::duration period() const { return period_; }

 private:
  static void onTimer(int fd, short what, void* self);
  void run();
  void arm();

  event_base* const base_;
  const Clock::duration period_;
  const uint64_t miss_us_;
  const uint64_t megamiss_us_;
  WorkerStats& stats_;
  Clock::time_point due_local_;     // loop thread
  std::atomic<Clock::rep> due_{0};  // due_local_, published
  std::atomic<pid_t> thread_id_{0};
  common::SampleRing<64> recent_lags_;  // written by the loop thread
  common::Event timer_;
};

}  // namespace reactord::server
