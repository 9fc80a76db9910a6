#include "client/reactor_bench/bench_runner.h"

#include <sys/resource.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <ctime>

namespace reactord::client {
namespace {

constexpr int64_t kSecondNs = 1'000'000'000;
constexpr int64_t kPollNs = 10'000'000;
constexpr int kFilesPerWorker = 4;  // epoll, timerfd, eventfd, spare
constexpr int kFilesReserved = 32;  // stdio, logs, libraries

int64_t secondsToNanos(double seconds) { return static_cast<int64_t>(seconds * 1e9); }

double cpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

void sleepNanos(int64_t nanos) {
  const timespec delay{static_cast<time_t>(nanos / kSecondNs),
                       static_cast<long>(nanos % kSecondNs)};
  nanosleep(&delay, nullptr);
}

BenchPayloads makePayloads(const BenchOptions& options) {
  if (options.protocol == Protocol::kEcho) {
    Payload stream = Payload::echoStream();
    return BenchPayloads{stream, stream};
  }
  return BenchPayloads{Payload::ackRequests(static_cast<size_t>(options.message_bytes)),
                       Payload::ackReplies()};
}

}  // namespace

BenchRunner::BenchRunner(BenchOptions options)
    : options_(options), payloads_(makePayloads(options_)) {}

BenchRunner::~BenchRunner() {
  for (std::thread& thread : threads_) {
    if (thread.joinable()) {
      thread.join();
    }
  }
}

bool BenchRunner::prepare(std::string* error) {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
    getrlimit(RLIMIT_NOFILE, &limit);
  }
  const auto needed = static_cast<rlim_t>(options_.connections) +
                      static_cast<rlim_t>(options_.threads) * kFilesPerWorker + kFilesReserved;
  if (limit.rlim_cur != RLIM_INFINITY && needed > limit.rlim_cur) {
    *error = "--connections=" + std::to_string(options_.connections) + " needs about " +
             std::to_string(needed) + " open files, but the limit is " +
             std::to_string(limit.rlim_cur) + " (hard limit " + std::to_string(limit.rlim_max) +
             ")";
    return false;
  }
  return true;
}

void BenchRunner::startWorkers(const BenchSchedule& schedule) {
  uint32_t next_id = 0;
  for (int i = 0; i < options_.threads; ++i) {
    BenchWorkerPlan plan;
    plan.index = i;
    plan.first_id = next_id;
    plan.connections = options_.connections / options_.threads +
                       (i < options_.connections % options_.threads ? 1 : 0);
    const double total_rate =
        options_.mode == BenchMode::kChurn ? options_.connect_rate : options_.rate;
    plan.rate = total_rate * plan.connections / options_.connections;
    next_id += static_cast<uint32_t>(plan.connections);
    workers_.push_back(std::make_unique<BenchWorker>(options_, payloads_, schedule, plan));
  }
  for (const auto& worker : workers_) {
    threads_.emplace_back([w = worker.get()] { w->run(); });
  }
}

BenchResult BenchRunner::run() {
  BenchSchedule schedule;
  start_ns_ = last_progress_ns_ = nowNanos();
  next_progress_ns_ = start_ns_ + kSecondNs;
  schedule.start_ns = start_ns_;
  if (options_.mode == BenchMode::kIdle) {
    schedule.window_start_ns = start_ns_;
    schedule.window_end_ns = INT64_MAX;
  } else {
    schedule.window_start_ns = start_ns_ + secondsToNanos(options_.warmup_s);
    schedule.window_end_ns = schedule.window_start_ns + secondsToNanos(options_.duration_s);
  }
  startWorkers(schedule);
  BenchResult result;
  result.options = options_;
  if (options_.mode == BenchMode::kIdle) {
    runIdle(&result);
  } else {
    runTimed(schedule, &result);
  }
  for (std::thread& thread : threads_) {
    thread.join();
  }
  double window_seconds = 0;
  for (const auto& worker : workers_) {
    result.window += worker->windowTotals();
    result.all += worker->totals();
    result.latency.merge(worker->latency());
    result.send_lag.merge(worker->sendLag());
    window_seconds += worker->windowSeconds();
    if (options_.mode == BenchMode::kStall) {
      result.open_at_once += worker->openAtWindowEnd();
    }
  }
  if (options_.mode != BenchMode::kIdle) {
    result.duration_s = window_seconds / static_cast<double>(workers_.size());
  }
  return result;
}

void BenchRunner::runTimed(const BenchSchedule& schedule, BenchResult* result) {
  auto never = [] { return false; };
  waitUntil(schedule.window_start_ns, "warmup", never);
  const double cpu_start = cpuSeconds();
  waitUntil(schedule.window_end_ns, "measure", never);
  result->client_cpu_s = cpuSeconds() - cpu_start;
  waitUntil(INT64_MAX, "drain", [this] { return allFinished(); });
}

void BenchRunner::runIdle(BenchResult* result) {
  // Connect and verify every connection; a stall (no connection settling for twice the timeout)
  // ends the phase too, and the missing connections show in the figures.
  const int64_t stall_ns = 2 * int64_t{options_.timeout_ms} * 1'000'000 + kSecondNs;
  uint64_t last_settled = 0;
  int64_t last_change_ns = nowNanos();
  waitUntil(INT64_MAX, "connect", [&] {
    const uint64_t settled = sumTotals().settled;
    const int64_t now = nowNanos();
    if (settled != last_settled) {
      last_settled = settled;
      last_change_ns = now;
    }
    return settled >= static_cast<uint64_t>(options_.connections) ||
           now - last_change_ns > stall_ns || allFinished();
  });
  const double cpu_start = cpuSeconds();
  const int64_t hold_start = nowNanos();
  waitUntil(hold_start + secondsToNanos(options_.duration_s), "hold", [] { return false; });
  result->open_at_once = sumTotals().open();
  result->duration_s = static_cast<double>(nowNanos() - hold_start) / 1e9;
  result->client_cpu_s = cpuSeconds() - cpu_start;
  for (const auto& worker : workers_) {
    worker->requestDrain();
  }
  waitUntil(INT64_MAX, "drain", [this] { return allFinished(); });
}

template <typename Done>
void BenchRunner::waitUntil(int64_t deadline_ns, const char* phase, Done done) {
  while (!done()) {
    const int64_t now = nowNanos();
    if (now >= next_progress_ns_) {  // before the deadline: the line describes this phase
      printProgress(phase, now);
      next_progress_ns_ += kSecondNs;
    }
    if (now >= deadline_ns) {
      return;
    }
    sleepNanos(std::min({deadline_ns - now, next_progress_ns_ - now, kPollNs}));
  }
}

void BenchRunner::printProgress(const char* phase, int64_t now) {
  const BenchTotals totals = sumTotals();
  const BenchTotals delta = totals - last_progress_totals_;
  const double seconds = static_cast<double>(now - last_progress_ns_) / 1e9;
  last_progress_totals_ = totals;
  last_progress_ns_ = now;
  if (!options_.progress) {
    return;
  }
  const double msgs_per_s = seconds > 0 ? static_cast<double>(delta.messages) / seconds : 0;
  std::fprintf(stderr,
               "progress t=%.1fs phase=%s open=%" PRIu64
               " msgs_per_s=%.0f MB_per_s=%.2f "
               "connects_per_s=%.0f errors=%" PRIu64 "\n",
               static_cast<double>(now - start_ns_) / 1e9, phase, totals.open(), msgs_per_s,
               msgs_per_s * options_.message_bytes / 1e6,
               seconds > 0 ? static_cast<double>(delta.connects) / seconds : 0, totals.errors());
}

BenchTotals BenchRunner::sumTotals() const {
  BenchTotals sum;
  for (const auto& worker : workers_) {
    sum += worker->totals();
  }
  return sum;
}

bool BenchRunner::allFinished() const {
  return std::all_of(workers_.begin(), workers_.end(),
                     [](const auto& worker) { return worker->finished(); });
}

}  // namespace reactord::client
