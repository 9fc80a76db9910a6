// The loop-lag probe on a real event_base: a callback that blocks the loop for a known time is
// seen as one late probe, in the counters, the histogram and the recent lags, and from another
// thread as a due time in the past while it lasts.
#include "server/loop_lag_probe.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>

#include "common/event.h"
#include "common/event_base_ptr.h"

namespace reactord::server {
namespace {

using std::chrono::milliseconds;
using Clock = LoopLagProbe::Clock;

uint64_t maxRecentLag(const LoopLagProbe& probe) {
  uint64_t cursor = 0;
  uint64_t largest = 0;
  probe.recentLags().readSince(&cursor, [&](uint64_t lag) { largest = std::max(largest, lag); });
  return largest;
}

struct StallRun {
  uint64_t largest_overdue_us = 0;  // seen from another thread while the loop ran
  pid_t loop_thread = 0;
};

// Runs a base on this thread: 100 ms, then a callback that blocks it for `stall`, then `after`.
StallRun runWithStall(LoopLagProbe& probe, event_base* base, milliseconds stall,
                      milliseconds after) {
  const milliseconds total = milliseconds(100) + stall + after;
  StallRun run;
  run.loop_thread = gettid();
  struct Staller {
    milliseconds stall;
    static void onTimer(int, short, void* self) {
      std::this_thread::sleep_for(static_cast<Staller*>(self)->stall);
    }
  } staller{stall};
  common::Event stall_event;
  stall_event.assign(base, -1, 0, &Staller::onTimer, &staller);
  const timeval at{0, 100 * 1000};
  stall_event.add(&at);
  const timeval end{static_cast<time_t>(total.count() / 1000),
                    static_cast<suseconds_t>(total.count() % 1000 * 1000)};
  event_base_loopexit(base, &end);

  std::atomic<bool> done{false};
  std::thread watcher([&] {
    while (!done.load()) {
      const auto overdue = Clock::now() - probe.due();
      if (probe.threadId() != 0 && overdue > Clock::duration::zero()) {
        const auto us = std::chrono::duration_cast<std::chrono::microseconds>(overdue).count();
        run.largest_overdue_us = std::max<uint64_t>(run.largest_overdue_us, us);
      }
      std::this_thread::sleep_for(milliseconds(5));
    }
  });
  probe.start();
  event_base_dispatch(base);
  done = true;
  watcher.join();
  return run;
}

TEST(LoopLagProbeTest, PeriodIsAQuarterOfTheMissThresholdAtMost50Ms) {
  EXPECT_EQ(LoopLagProbe::periodFor(milliseconds(200)), milliseconds(50));
  EXPECT_EQ(LoopLagProbe::periodFor(milliseconds(100)), milliseconds(25));
  EXPECT_EQ(LoopLagProbe::periodFor(milliseconds(60000)), milliseconds(50));
}

TEST(LoopLagProbeTest, AStalledLoopIsOneMissOfTheStallsLength) {
  common::EventBasePtr base = common::makeSingleThreadBase();
  WorkerStats stats;
  // Thresholds far from the stall, and the miss threshold above the delays a loaded 2-core
  // machine gives a thread (seen up to ~160 ms at a load of 12), so that only the stall counts.
  LoopLagProbe probe(base.get(), milliseconds(300), milliseconds(5000), stats);
  const StallRun run = runWithStall(probe, base.get(), milliseconds(800), milliseconds(300));

  EXPECT_EQ(probe.threadId(), run.loop_thread);
  const WorkerCounts counts = stats.snapshot();
  EXPECT_EQ(counts.loop_miss, 1u);
  EXPECT_EQ(counts.loop_mega_miss, 0u);
  // The probe due during the stall ran late by the stall less at most one period (50 ms).
  const uint64_t largest = maxRecentLag(probe);
  EXPECT_GE(largest, 750u * 1000);
  EXPECT_LT(largest, 5000u * 1000);
  // Every probe is in the histogram: the one before the stall and the late one at least.
  EXPECT_EQ(counts.loop_lag_us.count(), probe.recentLags().written());
  EXPECT_GE(counts.loop_lag_us.count(), 2u);
  EXPECT_GE(counts.loop_lag_us.sum, largest);
  EXPECT_EQ(counts.loop_lag_us.buckets[common::log2Bucket(largest)] > 0, true);
  // Another thread saw the due time slip into the past while the loop was stuck.
  EXPECT_GE(run.largest_overdue_us, 600u * 1000);
}

TEST(LoopLagProbeTest, AStallPastTheMegaMissCountsBoth) {
  common::EventBasePtr base = common::makeSingleThreadBase();
  WorkerStats stats;
  LoopLagProbe probe(base.get(), milliseconds(100), milliseconds(300), stats);
  runWithStall(probe, base.get(), milliseconds(600), milliseconds(200));
  const WorkerCounts counts = stats.snapshot();
  EXPECT_GE(counts.loop_miss, 1u);
  EXPECT_EQ(counts.loop_mega_miss, 1u);
}

TEST(LoopLagProbeTest, ARunningLoopIsOnTime) {
  common::EventBasePtr base = common::makeSingleThreadBase();
  WorkerStats stats;
  LoopLagProbe probe(base.get(), milliseconds(200), milliseconds(1000), stats);
  runWithStall(probe, base.get(), milliseconds(0), milliseconds(400));
  const WorkerCounts counts = stats.snapshot();
  EXPECT_GE(counts.loop_lag_us.count(), 2u);
  EXPECT_EQ(counts.loop_miss, 0u);
  // Bounded by the miss threshold, not by the timer's resolution: a loaded 2-core machine may
  // delay a thread by tens of ms.
  EXPECT_LT(maxRecentLag(probe), 200u * 1000);
}

}  // namespace
}  // namespace reactord::server
