#pragma once

#include <signal.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "common/stats.h"
#include "server/admin_server.h"
#include "server/server.h"
#include "server/server_options.h"

namespace reactord::server {

// The supervisor thread: waits for signals (sigtimedwait; every thread has them blocked), logs a
// stats line every --stats_interval_s, and runs shutdown in a fixed, logged order:
//   SIGTERM/SIGINT  drain: workers accept what is queued and close their listeners, open
//                   connections are served until their clients close them or --drain_timeout_s
//                   passes, then the rest are closed (counted as forced) and the process exits 0.
//   again, SIGQUIT  immediate stop: close everything now, exit 0.
//   SIGUSR1         a stats line now.
//   SIGHUP          logged and ignored (there is no configuration to reload).
// The admin endpoint, when there is one, is stopped last, after the final stats line, so that
// /readyz answers 503 for the whole drain.
// Constructed on the main thread, which then only waits in join(). Holds a reference to the
// Server and a pointer to the AdminServer (null when --admin_port is off), which outlive it.
class Supervisor {
 public:
  Supervisor(Server& server, const ServerOptions& options, AdminServer* admin = nullptr);
  ~Supervisor();

  // The signals the supervisor takes; main blocks them before any thread starts.
  static sigset_t handledSignals();

  // False with `error` when its thread cannot be started.
  bool start(std::string* error);
  // Waits for the end of shutdown; returns the process exit code.
  int join();

 private:
  using Clock = std::chrono::steady_clock;

  void run();
  void onSignal(int signal);
  void beginDrain();
  void checkDrain();
  void stopNow(const char* why);
  void logStats(const char* label);
  std::chrono::nanoseconds waitBudget() const;

  Server& server_;
  AdminServer* const admin_;
  const ServerOptions options_;
  const Clock::time_point started_;
  bool draining_ = false;
  bool stopping_ = false;
  Clock::time_point drain_deadline_;
  Clock::time_point next_stats_;
  Clock::time_point last_stats_time_;
  std::vector<common::StatsSnapshot> last_stats_;
  common::AdminStatsSnapshot last_admin_stats_;
  int exit_code_ = 0;
  std::thread thread_;
};

}  // namespace reactord::server
