#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "server/listener.h"
#include "server/loop_lag_probe.h"
#include "server/server_options.h"
#include "server/worker_stats.h"

namespace reactord::server {

// One worker as the watchdog sees it from outside: its loop-lag probe and the listeners it
// accepts from. Both outlive the watchdog.
struct WatchedWorker {
  const LoopLagProbe* probe = nullptr;
  std::vector<const Listener*> listeners;
};

// A worker's loop and accept queues now, read without touching its thread: atomics the probe
// publishes, and TCP_INFO on its listeners through Listener::acceptQueue(), which never waits.
// Thread-safe.
struct WorkerSample {
  bool started = false;                     // its loop ran its first probe (or is about to)
  LoopLagProbe::Clock::duration not_run{};  // since the loop last ran its probe
  uint64_t queue = 0;                       // connections waiting in its accept queues
  uint64_t limit = 0;                       // what those queues hold at most
};
WorkerSample sampleWorker(const WatchedWorker& worker, LoopLagProbe::Clock::time_point now);

// The gauges of a worker now: its accept queue and limit, and how long it has been stalled (0
// unless its loop has not run for longer than `miss`). Thread-safe; for /metrics.
WorkerGauges currentGauges(const WatchedWorker& worker, LoopLagProbe::Clock::time_point now,
                           std::chrono::milliseconds miss);

// The supervisor's watch over the workers' loops (Envoy's guard dog, without a thread of its
// own). Every check() it samples each worker (sampleWorker: it never posts to a worker nor waits
// for one), notices a loop that has not run for longer than --watchdog_miss_ms and when it runs
// again, reads the lags the worker recorded, and keeps each worker's largest lag and accept queue
// of the stats interval. It reports what happened as events, which the supervisor logs (and acts
// on: kill). Supervisor-only: one thread constructs it and calls everything.
class Watchdog {
 public:
  using Clock = LoopLagProbe::Clock;

  struct Event {
    enum class Kind {
      kStalled,       // the loop has not run for longer than the miss threshold
      kStillStalled,  // the same stall, again every kRepeat
      kRecovered,     // the loop runs again; `length` is the stall's, as the probe measured it
      kKill,          // stalled past --watchdog_kill_s: abort the process with that thread's stack
    };
    Kind kind;
    int worker;
    pid_t thread_id;
    Clock::duration length;  // not run for, or (kRecovered) how late the probe that ended it ran
    uint64_t queue;          // the accept queue now
    uint64_t queue_max;      // kRecovered: the longest it got during the stall
    uint64_t limit;
  };

  // The probes' period: how often the watchdog checks while a loop is stalled or not started.
  static Clock::duration checkPeriod(const ServerOptions& options);

  Watchdog(const ServerOptions& options, std::vector<WatchedWorker> workers);

  // Samples every worker at `now`; returns what changed.
  std::vector<Event> check(Clock::time_point now);
  // When to check next, after a check at `now`: the moment the first running loop passes the miss
  // threshold if it does not run again (so that a stall is reported as it passes it, and a
  // healthy process is checked only every miss threshold less a probe period), or one period
  // from now while a loop is stalled (to see it recover, repeat, or kill) or not started yet.
  Clock::time_point nextCheck(Clock::time_point now) const;
  // The gauges of the interval since the previous call (from a check at `now`), and starts the
  // next interval. Events of that check are logged like check()'s.
  std::vector<WorkerGauges> takeIntervalGauges(Clock::time_point now, std::vector<Event>* events);
  // One line for the log, naming the worker: the documented wording of each event.
  static std::string describe(const Event& event, const ServerOptions& options);

 private:
  struct State {
    uint64_t lag_cursor = 0;
    uint64_t interval_lag_max_us = 0;
    uint64_t interval_queue_max = 0;
    bool stalled = false;
    Clock::time_point stall_reported;  // when the last kStalled/kStillStalled was given
    uint64_t stall_lag_us = 0;         // the largest lag recorded since the stall began
    bool stall_lag_seen = false;       // a lag was recorded (read) since it began
    Clock::duration stall_not_run{};   // the longest not-run time seen during the stall
    uint64_t stall_queue_max = 0;
    bool killed = false;
    WorkerSample last;
    Clock::time_point last_run;  // when the loop last ran its probe, as of the last check
  };

  void checkWorker(size_t index, Clock::time_point now, std::vector<Event>* events);

  const ServerOptions options_;
  const Clock::duration period_;
  const Clock::duration miss_;
  const Clock::duration kill_;  // zero: never
  std::vector<WatchedWorker> workers_;
  std::vector<State> states_;
};

}  // namespace reactord::server
