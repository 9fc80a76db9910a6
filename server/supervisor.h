#pragma once

#include <signal.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/listen_counters.h"
#include "common/task_queue.h"
#include "common/unique_fd.h"
#include "server/admin_server.h"
#include "server/server_options.h"
#include "server/stats_line.h"
#include "server/watchdog.h"
#include "server/worker.h"
#include "server/worker_group.h"
#include "server/worker_stats.h"

namespace reactord::server {

// The supervisor thread: waits for signals (a signalfd; every thread has them blocked), for the
// workers' drain reports (posted tasks) and for the next stats line, and runs shutdown in a fixed,
// logged order:
//   SIGTERM/SIGINT  with --drain_delay_s, first the delay: /readyz answers 503 while the
//                   listeners still accept and serve; then the drain: workers accept what is
//                   queued and close their listeners, open connections are served until their
//                   clients close them or --drain_timeout_s passes, then the rest are closed
//                   (counted as forced) and the process exits 0.
//   again (in the delay or the drain), SIGQUIT
//                   immediate stop: close everything now, exit 0.
//   SIGUSR1         a stats line now.
//   SIGHUP          logged and ignored (there is no configuration to reload).
//   a takeover      (handedOver(), from the control server) the same drain as SIGTERM; the workers
//                   stopped accepting and closed their copies of the listeners before it.
// The drain ends when every worker has reported both "listeners closed" and "no connection left"
// (DrainObserver), or at the deadline: nothing is polled. Until shutdown stops the workers, it
// also runs the Watchdog when it asks (Watchdog::nextCheck: as a loop would pass
// --watchdog_miss_ms, or every probe period during a stall): a WARNING names a worker whose loop
// has not run for longer than --watchdog_miss_ms, with its accept queue, and again when it
// recovers; past --watchdog_kill_s it sends that thread SIGABRT, whose handler (glog's failure
// handler, installed by main) logs the thread's stack and aborts. The admin endpoint, when there is
// one, is stopped last, after the final stats line, so that /readyz answers 503 for the whole
// drain. Constructed on the main thread, which then only waits in join(). Holds references to the
// WorkerGroup and the AdminServer (null when --admin_port is off), which outlive it. The
// DrainObserver methods are thread-safe (they post to the supervisor's thread).
class Supervisor final : public DrainObserver {
 public:
  Supervisor(WorkerGroup& workers, const ServerOptions& options, AdminServer* admin = nullptr);
  ~Supervisor();

  // The signals the supervisor takes; main blocks them before any thread starts.
  static sigset_t handledSignals();

  // Main-thread-only, before the workers start: opens the signalfd and the task queue's eventfd;
  // false with `error` saying what was short.
  bool open(std::string* error);
  // Main-thread-only: starts the thread (after the workers started); false with `error` when it
  // cannot be started.
  bool start(std::string* error);
  // Main-thread-only: waits for the end of shutdown.
  void join();

  void listenersClosed(int worker) override;
  void connectionsGone(int worker) override;
  // Thread-safe: process `new_pid` took the listeners over and every worker stopped accepting;
  // drain exactly as on SIGTERM (the listeners are closed already: nothing is swept or reset).
  void handedOver(pid_t new_pid);

 private:
  using Clock = std::chrono::steady_clock;

  void run();
  // Waits for a signal, a posted task or `deadline`, and handles what came.
  void waitAndHandle(Clock::time_point deadline);
  void onSignal(int signal);
  void beginDrainDelay();
  void beginDrain();
  void checkDrain();
  void stopNow(const char* why);
  void logStats(const char* label);
  void checkWatchdog(Clock::time_point now);
  void handle(const std::vector<Watchdog::Event>& events);
  void abortWithStackOf(const Watchdog::Event& event);
  // The interval's measures for a stats line: the watchdog's gauges and the kernel's counters.
  IntervalMeasures measureInterval(Clock::time_point now);
  Clock::time_point nextDeadline() const;

  WorkerGroup& workers_;
  AdminServer* const admin_;
  const ServerOptions options_;
  const Clock::time_point started_;
  common::UniqueFd signal_fd_;
  common::TaskQueue tasks_;
  bool delaying_ = false;  // in the drain delay: not ready, still accepting
  Clock::time_point delay_end_;
  bool draining_ = false;
  bool handed_over_ = false;  // the drain follows a takeover: the listeners are the new process's
  bool stopping_ = false;
  int listeners_closed_ = 0;  // workers that reported it during this drain
  int workers_drained_ = 0;   // workers that reported no connection left
  Clock::time_point drain_started_;
  Clock::time_point drain_deadline_;
  Clock::time_point next_stats_;
  Clock::time_point last_stats_time_;
  std::vector<WorkerCounts> last_stats_;
  std::unique_ptr<Watchdog> watchdog_;  // made in start(), once the workers run
  Clock::time_point next_check_;
  Clock::time_point kill_deadline_ = Clock::time_point::max();  // after the watchdog's SIGABRT
  std::optional<common::ListenCounters> last_listen_;           // at the previous stats line
  AdminCounts last_admin_stats_;
  std::thread thread_;
};

}  // namespace reactord::server
