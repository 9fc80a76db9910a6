#include "server/supervisor.h"

#include <glog/logging.h>
#include <poll.h>
#include <pthread.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>

#include "server/startup_error.h"
#include "server/stats_line.h"

namespace reactord::server {
namespace {

constexpr std::chrono::hours kNoStats{24};
// After the watchdog's SIGABRT to a stalled thread, how long its handler may take to log the stack
// before the supervisor aborts on its own (a thread blocked in the kernel cannot take a signal).
constexpr std::chrono::seconds kKillGrace{5};

double secondsBetween(std::chrono::steady_clock::time_point from,
                      std::chrono::steady_clock::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

}  // namespace

Supervisor::Supervisor(WorkerGroup& workers, const ServerOptions& options, AdminServer* admin)
    : workers_(workers), admin_(admin), options_(options), started_(Clock::now()) {
  last_stats_time_ = started_;
  next_stats_ = started_ + (options_.stats_interval_s > 0
                                ? std::chrono::duration_cast<Clock::duration>(
                                      std::chrono::seconds(options_.stats_interval_s))
                                : std::chrono::duration_cast<Clock::duration>(kNoStats));
}

Supervisor::~Supervisor() { join(); }

bool Supervisor::open(std::string* error) {
  if (!tasks_.valid()) {
    *error = std::string("the supervisor: cannot open its wake-up eventfd: ") +
             std::strerror(tasks_.error()) + resourceHint(tasks_.error());
    return false;
  }
  const sigset_t signals = handledSignals();
  signal_fd_.reset(signalfd(-1, &signals, SFD_NONBLOCK | SFD_CLOEXEC));
  if (!signal_fd_.valid()) {
    const int failure = errno;
    *error = std::string("the supervisor: cannot open its signalfd: ") + std::strerror(failure) +
             resourceHint(failure);
    return false;
  }
  // Here, before the workers start and "listening on" is logged, so that the descriptor it takes
  // for a moment is never counted in a baseline of the running server's.
  std::string netstat_error;
  last_listen_ = common::readListenCounters(&netstat_error);
  if (!last_listen_) {
    LOG(WARNING) << "no listen_overflows/listen_drops in the stats lines: " << netstat_error;
  }
  return true;
}

sigset_t Supervisor::handledSignals() {
  sigset_t set;
  sigemptyset(&set);
  for (int signal : {SIGINT, SIGTERM, SIGQUIT, SIGHUP, SIGUSR1}) {
    sigaddset(&set, signal);
  }
  return set;
}

bool Supervisor::start(std::string* error) {
  DCHECK(signal_fd_.valid()) << "open() first";
  watchdog_ = std::make_unique<Watchdog>(options_, workers_.watched());
  next_check_ = Clock::now() + Watchdog::checkPeriod(options_);
  return startThread(
      &thread_, [this] { run(); }, "the supervisor", error);
}

void Supervisor::join() {
  if (thread_.joinable()) {
    thread_.join();
  }
}

void Supervisor::listenersClosed(int /*worker*/) {
  tasks_.post([this] {
    ++listeners_closed_;
    checkDrain();
  });
}

void Supervisor::connectionsGone(int /*worker*/) {
  tasks_.post([this] {
    ++workers_drained_;
    checkDrain();
  });
}

void Supervisor::handedOver(pid_t new_pid) {
  tasks_.post([this, new_pid] {
    if (draining_ || stopping_) {
      return;
    }
    LOG(INFO) << "takeover: pid " << new_pid
              << " serves the listeners now; this process drains as on SIGTERM";
    handed_over_ = true;
    if (admin_ != nullptr) {
      // The new process binds the same admin port as soon as this one lets it go.
      admin_->stop();
      LOG(INFO) << "takeover: admin endpoint closed for pid " << new_pid;
    }
    beginDrain();
  });
}

Supervisor::Clock::time_point Supervisor::nextDeadline() const {
  Clock::time_point next = std::min({next_stats_, next_check_, kill_deadline_});
  if (delaying_) {
    return std::min(next, delay_end_);
  }
  return draining_ ? std::min(next, drain_deadline_) : next;
}

void Supervisor::run() {
  pthread_setname_np(pthread_self(), "reactord-sup");
  while (!stopping_) {
    waitAndHandle(nextDeadline());
    const Clock::time_point now = Clock::now();
    if (!stopping_ && now >= next_check_) {
      checkWatchdog(now);
    }
    if (!stopping_ && now >= next_stats_) {
      logStats("stats");
    }
    if (delaying_ && !stopping_ && Clock::now() >= delay_end_) {
      LOG(INFO) << "drain delay: " << options_.drain_delay_s << "s over, "
                << workers_.activeConnections() << " open connections";
      beginDrain();
    }
    LOG_IF(FATAL, now >= kill_deadline_)
        << "watchdog: the stalled thread did not take SIGABRT within " << kKillGrace.count()
        << " s (blocked in the kernel?): aborting from the supervisor";
    if (draining_ && !stopping_) {
      checkDrain();
    }
  }
  LOG(INFO) << "shutdown: waiting for the workers to leave their loops";
  workers_.join();
  logStats("final");
  if (admin_ != nullptr) {
    LOG(INFO) << "shutdown: stopping the admin endpoint";
    admin_->stop();
  }
  LOG(INFO) << "shutdown: done, exit 0";
}

void Supervisor::waitAndHandle(Clock::time_point deadline) {
  const auto wait = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
  pollfd fds[] = {{signal_fd_.get(), POLLIN, 0}, {tasks_.fd(), POLLIN, 0}};
  const int ready = ::poll(fds, 2, static_cast<int>(std::max<int64_t>(0, wait.count())));
  if (ready < 0) {
    PCHECK(errno == EINTR) << "poll in the supervisor";
    return;
  }
  if (fds[0].revents & POLLIN) {
    signalfd_siginfo info;
    while (::read(signal_fd_.get(), &info, sizeof info) == sizeof info) {
      onSignal(static_cast<int>(info.ssi_signo));
    }
  }
  if (fds[1].revents & POLLIN) {
    tasks_.runAll();
  }
}

void Supervisor::onSignal(int signal) {
  switch (signal) {
    case SIGTERM:
    case SIGINT:
      if (draining_ || delaying_) {
        stopNow("second SIGTERM/SIGINT");
      } else if (options_.drain_delay_s > 0) {
        beginDrainDelay();
      } else {
        beginDrain();
      }
      break;
    case SIGQUIT:
      stopNow("SIGQUIT");
      break;
    case SIGUSR1:
      logStats("stats");
      break;
    case SIGHUP:
      LOG(INFO) << "SIGHUP: nothing to reload, ignored";
      break;
    default:
      LOG(WARNING) << "unexpected signal " << signal;
  }
}

void Supervisor::beginDrainDelay() {
  delaying_ = true;
  delay_end_ = Clock::now() + std::chrono::seconds(options_.drain_delay_s);
  workers_.endReadiness();
  LOG(INFO) << "drain delay: /readyz answers 503 from now; the listeners keep accepting and "
               "serving for "
            << options_.drain_delay_s << "s, then the drain begins";
}

void Supervisor::beginDrain() {
  if (stopping_) {
    return;
  }
  delaying_ = false;  // over, or cut short by a takeover
  draining_ = true;
  drain_started_ = Clock::now();
  drain_deadline_ = drain_started_ + std::chrono::seconds(options_.drain_timeout_s);
  LOG(INFO) << (handed_over_ ? "draining: listeners handed over, serving "
                             : "draining: closing listeners after accepting what is queued, "
                               "serving ")
            << workers_.activeConnections() << " open connections for up to "
            << options_.drain_timeout_s << "s";
  workers_.beginDrain();
}

void Supervisor::checkDrain() {
  if (!draining_ || stopping_) {
    return;
  }
  const int workers = workers_.workerCount();
  if (listeners_closed_ == workers && workers_drained_ == workers) {
    LOG(INFO) << "drain: every connection closed by its client after "
              << secondsBetween(drain_started_, Clock::now()) << "s; stopping workers";
  } else if (Clock::now() >= drain_deadline_) {
    LOG(INFO) << "drain: deadline of " << options_.drain_timeout_s << "s reached, closing "
              << workers_.activeConnections() << " connections (flushing what is pending)";
  } else {
    return;
  }
  stopping_ = true;
  workers_.stop();
}

void Supervisor::stopNow(const char* why) {
  LOG(INFO) << "immediate stop (" << why << "): closing " << workers_.activeConnections()
            << " connections";
  stopping_ = true;
  workers_.stop();
}

void Supervisor::checkWatchdog(Clock::time_point now) {
  handle(watchdog_->check(now));
  next_check_ = watchdog_->nextCheck(now);
}

void Supervisor::handle(const std::vector<Watchdog::Event>& events) {
  for (const Watchdog::Event& event : events) {
    if (event.kind == Watchdog::Event::Kind::kKill) {
      abortWithStackOf(event);
    } else {
      LOG(WARNING) << Watchdog::describe(event, options_);
    }
  }
}

void Supervisor::abortWithStackOf(const Watchdog::Event& event) {
  LOG(ERROR) << Watchdog::describe(event, options_);
  google::FlushLogFiles(google::GLOG_INFO);
  // Aimed at that thread alone: its SIGABRT handler runs on it, so the stack logged is the stalled
  // thread's. A stopped or running thread takes it as soon as it runs; see kKillGrace otherwise.
  PLOG_IF(ERROR, syscall(SYS_tgkill, getpid(), event.thread_id, SIGABRT) != 0)
      << "tgkill of thread " << event.thread_id;
  kill_deadline_ = Clock::now() + kKillGrace;
}

IntervalMeasures Supervisor::measureInterval(Clock::time_point now) {
  IntervalMeasures measured;
  std::vector<Watchdog::Event> events;
  measured.gauges = watchdog_->takeIntervalGauges(now, &events);
  handle(events);
  std::string error;
  const std::optional<common::ListenCounters> listen = common::readListenCounters(&error);
  if (listen && last_listen_) {
    measured.listen = common::ListenCounters{listen->overflows - last_listen_->overflows,
                                             listen->drops - last_listen_->drops};
  }
  last_listen_ = listen;
  return measured;
}

void Supervisor::logStats(const char* label) {
  const auto now = Clock::now();
  std::vector<WorkerCounts> snapshots = workers_.snapshots();
  const bool final_line = std::strcmp(label, "final") == 0;
  // The final line counts from the start; the watchdog's measures belong to running loops.
  IntervalMeasures measured =
      final_line || stopping_ || watchdog_ == nullptr ? IntervalMeasures{} : measureInterval(now);
  measured.memory = workers_.memoryGauges();
  StatsLine line =
      makeStatsLine(label, snapshots, final_line ? std::vector<WorkerCounts>{} : last_stats_,
                    secondsBetween(final_line ? started_ : last_stats_time_, now), measured);
  // Process-wide, since the start (0 or 1 each): a takeover is the process's event, not a
  // worker's.
  line.add("takeovers_served", workers_.takeoversServed());
  line.add("takeovers_received", workers_.takeoversReceived());
  if (admin_ != nullptr) {
    const AdminCounts admin = admin_->stats();
    const AdminCounts interval = final_line ? admin : admin - last_admin_stats_;
    line.add("admin_rejected", interval.rejected);
    line.add("admin_timed_out", interval.timed_out);
    last_admin_stats_ = admin;
  }
  LOG(INFO) << (options_.stats_format == StatsFormat::kJson ? line.json() : line.text());
  last_stats_ = std::move(snapshots);
  last_stats_time_ = now;
  next_stats_ =
      now + (options_.stats_interval_s > 0 ? std::chrono::duration_cast<Clock::duration>(
                                                 std::chrono::seconds(options_.stats_interval_s))
                                           : std::chrono::duration_cast<Clock::duration>(kNoStats));
}

}  // namespace reactord::server
