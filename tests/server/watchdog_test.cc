// The Watchdog's events and gauges, on a real loop-lag probe and a real listening socket with
// connections in its queue; the clock is the test's: check() is given the time, so a stall of
// seconds takes none.
#include "server/watchdog.h"

#include <gtest/gtest.h>
#include <sys/socket.h>

#include <chrono>
#include <vector>

#include "common/event_base_ptr.h"
#include "common/listen_socket.h"
#include "common/socket_address.h"
#include "common/unique_fd.h"

namespace reactord::server {
namespace {

using std::chrono::milliseconds;
using Clock = Watchdog::Clock;
using Kind = Watchdog::Event::Kind;

class WatchdogEventsTest : public ::testing::Test {
 protected:
  WatchdogEventsTest()
      : base_(common::makeSingleThreadBase()),
        probe_(base_.get(), milliseconds(200), milliseconds(1000), stats_) {
    common::ListenResult result =
        common::openListenSocket(*common::SocketAddress::parse("127.0.0.1", 0), 8, false);
    EXPECT_TRUE(result.fd.valid()) << result.error;
    const auto address = *common::SocketAddress::localOf(result.fd.get());
    listener_ = std::make_unique<Listener>(std::move(result.fd), address);
    // Two connections complete their handshake and wait: nobody accepts from this listener.
    for (int i = 0; i < 2; ++i) {
      common::UniqueFd client(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
      EXPECT_EQ(connect(client.get(), address.get(), address.length()), 0);
      clients_.push_back(std::move(client));
    }
    options_.watchdog_miss_ms = 200;
    options_.watchdog_megamiss_ms = 1000;
    options_.watchdog_kill_s = 2;
  }

  Watchdog makeWatchdog() {
    return Watchdog(options_, {WatchedWorker{&probe_, {listener_.get()}}});
  }

  common::EventBasePtr base_;
  WorkerStats stats_;
  LoopLagProbe probe_;
  std::unique_ptr<Listener> listener_;
  std::vector<common::UniqueFd> clients_;
  ServerOptions options_;
};

TEST_F(WatchdogEventsTest, StallStillStalledKillAndRecovery) {
  Watchdog watchdog = makeWatchdog();
  EXPECT_TRUE(watchdog.check(Clock::now() + std::chrono::hours(1)).empty())
      << "a loop that has not started is not stalled";
  probe_.start();  // armed now; the loop never runs until the end of the test
  const Clock::time_point start = Clock::now();

  EXPECT_TRUE(watchdog.check(start + milliseconds(150)).empty());
  std::vector<Watchdog::Event> events = watchdog.check(start + milliseconds(260));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, Kind::kStalled);
  EXPECT_EQ(events[0].worker, 0);
  EXPECT_EQ(events[0].thread_id, probe_.threadId());
  EXPECT_GE(events[0].length, milliseconds(260));  // since the probe was armed, before `start`
  EXPECT_LT(events[0].length, milliseconds(400));
  EXPECT_EQ(events[0].queue, 2u);
  EXPECT_EQ(events[0].limit, 8u);
  EXPECT_EQ(
      Watchdog::describe(events[0], options_).rfind("watchdog: worker 0: loop not run for 0.", 0),
      0u);
  EXPECT_NE(
      Watchdog::describe(events[0], options_).find(", 2 connections waiting in its accept queue"),
      std::string::npos);

  EXPECT_TRUE(watchdog.check(start + milliseconds(1000)).empty())
      << "reported once, then every 5 s";
  events = watchdog.check(start + milliseconds(2100));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, Kind::kKill);
  EXPECT_NE(Watchdog::describe(events[0], options_).find("(--watchdog_kill_s=2)"),
            std::string::npos);
  events = watchdog.check(start + milliseconds(5300));
  ASSERT_EQ(events.size(), 1u) << "no second kill";
  EXPECT_EQ(events[0].kind, Kind::kStillStalled);

  // The interval's gauges: the stall in progress is its largest lag.
  std::vector<Watchdog::Event> interval_events;
  std::vector<WorkerGauges> gauges =
      watchdog.takeIntervalGauges(start + milliseconds(5400), &interval_events);
  ASSERT_EQ(gauges.size(), 1u);
  EXPECT_TRUE(interval_events.empty());
  EXPECT_GE(gauges[0].loop_stalled_ms, 5400u);
  EXPECT_LT(gauges[0].loop_stalled_ms, 5600u);
  EXPECT_EQ(gauges[0].loop_lag_max_ms, gauges[0].loop_stalled_ms);
  EXPECT_EQ(gauges[0].accept_queue, 2u);
  EXPECT_EQ(gauges[0].accept_queue_max, 2u);
  EXPECT_EQ(gauges[0].accept_queue_limit, 8u);

  // The loop runs: the probe records its lag (real time: it was due 50 ms after start()).
  event_base_loop(base_.get(), EVLOOP_ONCE);
  ASSERT_EQ(probe_.recentLags().written(), 1u);
  uint64_t cursor = 0;
  uint64_t recorded_us = 0;
  probe_.recentLags().readSince(&cursor, [&](uint64_t lag) { recorded_us = lag; });
  events = watchdog.check(Clock::now());
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, Kind::kRecovered);
  EXPECT_EQ(events[0].length, std::chrono::microseconds(recorded_us))
      << "the stall's length is the lag the probe recorded";
  EXPECT_EQ(events[0].queue_max, 2u);
  EXPECT_NE(Watchdog::describe(events[0], options_).find("loop running again after a stall of "),
            std::string::npos);

  // The next interval starts from the stall's length and forgets it after.
  gauges = watchdog.takeIntervalGauges(Clock::now(), &interval_events);
  EXPECT_EQ(gauges[0].loop_stalled_ms, 0u);
  EXPECT_GE(gauges[0].loop_lag_max_ms, 5400u);
  gauges = watchdog.takeIntervalGauges(Clock::now(), &interval_events);
  EXPECT_LT(gauges[0].loop_lag_max_ms, 200u);
}

TEST_F(WatchdogEventsTest, CurrentGaugesAndAClosedListener) {
  probe_.start();
  const Clock::time_point start = Clock::now();
  const WatchedWorker worker{&probe_, {listener_.get()}};
  WorkerGauges now = currentGauges(worker, start, milliseconds(200));
  EXPECT_EQ(now.loop_stalled_ms, 0u);
  EXPECT_EQ(now.accept_queue, 2u);
  EXPECT_EQ(now.accept_queue_limit, 8u);
  now = currentGauges(worker, start + milliseconds(700), milliseconds(200));
  EXPECT_GE(now.loop_stalled_ms, 700u);
  EXPECT_EQ(now.loop_lag_max_ms, 0u) << "an interval's figure, not a gauge of now";
  listener_->close();
  now = currentGauges(worker, start, milliseconds(200));
  EXPECT_EQ(now.accept_queue, 0u);
  EXPECT_EQ(now.accept_queue_limit, 0u);
}

TEST_F(WatchdogEventsTest, NextCheckIsWhenTheOldestLoopWouldPassTheThreshold) {
  Watchdog watchdog = makeWatchdog();
  const Clock::time_point before = Clock::now();
  watchdog.check(before);
  EXPECT_EQ(watchdog.nextCheck(before), before + milliseconds(50)) << "not started: every period";
  probe_.start();
  const Clock::time_point armed = Clock::now();
  watchdog.check(armed);
  // Its last run counts from when it was armed (between `before` and `armed`).
  const Clock::time_point next = watchdog.nextCheck(armed);
  EXPECT_GT(next, before + milliseconds(200));
  EXPECT_LE(next, armed + milliseconds(201));
  // Stalled: every period, to see it recover.
  watchdog.check(next);
  EXPECT_EQ(watchdog.nextCheck(next), next + milliseconds(50));
}

TEST_F(WatchdogEventsTest, CheckPeriodIsTheProbesPeriod) {
  EXPECT_EQ(Watchdog::checkPeriod(options_), milliseconds(50));
  options_.watchdog_miss_ms = 100;
  EXPECT_EQ(Watchdog::checkPeriod(options_), milliseconds(25));
}

}  // namespace
}  // namespace reactord::server
