#include "server/supervisor.h"

#include <glog/logging.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "common/stats_line_json.h"

namespace reactord::server {
namespace {

// How often a drain checks whether the last connection has gone.
constexpr std::chrono::milliseconds kDrainPoll{20};
constexpr std::chrono::hours kNoStats{24};

double secondsBetween(std::chrono::steady_clock::time_point from,
                      std::chrono::steady_clock::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

}  // namespace

Supervisor::Supervisor(Server& server, const ServerOptions& options, AdminServer* admin)
    : server_(server), admin_(admin), options_(options), started_(Clock::now()) {
  last_stats_time_ = started_;
  next_stats_ = started_ + (options_.stats_interval_s > 0
                                ? std::chrono::duration_cast<Clock::duration>(
                                      std::chrono::seconds(options_.stats_interval_s))
                                : std::chrono::duration_cast<Clock::duration>(kNoStats));
}

Supervisor::~Supervisor() {
  if (thread_.joinable()) {
    thread_.join();
  }
}

sigset_t Supervisor::handledSignals() {
  sigset_t set;
  sigemptyset(&set);
  for (int signal : {SIGINT, SIGTERM, SIGQUIT, SIGHUP, SIGUSR1}) {
    sigaddset(&set, signal);
  }
  return set;
}

void Supervisor::start() {
  thread_ = std::thread([this] { run(); });
}

int Supervisor::join() {
  thread_.join();
  return exit_code_;
}

std::chrono::nanoseconds Supervisor::waitBudget() const {
  if (draining_) {
    return kDrainPoll;
  }
  return std::max(std::chrono::nanoseconds(0), next_stats_ - Clock::now());
}

void Supervisor::run() {
  const sigset_t signals = handledSignals();
  while (!stopping_) {
    const auto budget = waitBudget();
    timespec timeout{static_cast<time_t>(budget.count() / 1000000000),
                     static_cast<long>(budget.count() % 1000000000)};
    const int signal = sigtimedwait(&signals, nullptr, &timeout);
    if (signal > 0) {
      onSignal(signal);
    } else if (errno != EAGAIN && errno != EINTR) {
      PLOG(FATAL) << "sigtimedwait";
    }
    if (!stopping_ && Clock::now() >= next_stats_) {
      logStats("stats");
    }
    if (draining_ && !stopping_) {
      checkDrain();
    }
  }
  LOG(INFO) << "shutdown: waiting for the workers to leave their loops";
  server_.join();
  logStats("final");
  if (admin_ != nullptr) {
    LOG(INFO) << "shutdown: stopping the admin endpoint";
    admin_->stop();
  }
  LOG(INFO) << "shutdown: done, exit " << exit_code_;
}

void Supervisor::onSignal(int signal) {
  switch (signal) {
    case SIGTERM:
    case SIGINT:
      if (draining_) {
        stopNow("second SIGTERM/SIGINT");
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

void Supervisor::beginDrain() {
  draining_ = true;
  drain_deadline_ = Clock::now() + std::chrono::seconds(options_.drain_timeout_s);
  LOG(INFO) << "draining: closing listeners after accepting what is queued, serving "
            << server_.activeConnections() << " open connections for up to "
            << options_.drain_timeout_s << "s";
  server_.beginDrain();
}

void Supervisor::checkDrain() {
  if (!server_.listenersClosed()) {
    return;  // queued connections are still being taken in
  }
  const uint64_t active = server_.activeConnections();
  if (active == 0) {
    LOG(INFO) << "drain: every connection closed by its client after "
              << secondsBetween(drain_deadline_ - std::chrono::seconds(options_.drain_timeout_s),
                                Clock::now())
              << "s; stopping workers";
  } else if (Clock::now() >= drain_deadline_) {
    LOG(INFO) << "drain: deadline of " << options_.drain_timeout_s << "s reached, closing "
              << active << " connections (flushing what is pending)";
  } else {
    return;
  }
  stopping_ = true;
  server_.stop();
}

void Supervisor::stopNow(const char* why) {
  LOG(INFO) << "immediate stop (" << why << "): closing " << server_.activeConnections()
            << " connections";
  stopping_ = true;
  server_.stop();
}

void Supervisor::logStats(const char* label) {
  const auto now = Clock::now();
  std::vector<common::StatsSnapshot> snapshots = server_.snapshots();
  const bool final_line = std::strcmp(label, "final") == 0;
  const std::string line = common::formatStatsLine(
      label, snapshots, final_line ? std::vector<common::StatsSnapshot>{} : last_stats_,
      secondsBetween(final_line ? started_ : last_stats_time_, now), server_.memoryGauges());
  LOG(INFO) << (options_.stats_format == StatsFormat::kJson ? common::statsLineToJson(line) : line);
  last_stats_ = std::move(snapshots);
  last_stats_time_ = now;
  next_stats_ =
      now + (options_.stats_interval_s > 0 ? std::chrono::duration_cast<Clock::duration>(
                                                 std::chrono::seconds(options_.stats_interval_s))
                                           : std::chrono::duration_cast<Clock::duration>(kNoStats));
}

}  // namespace reactord::server
