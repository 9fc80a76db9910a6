#include "server/watchdog.h"

#include <algorithm>
#include <cstdio>

namespace reactord::server {
namespace {

using std::chrono::duration_cast;
using std::chrono::microseconds;
using std::chrono::milliseconds;

// A stall still going on is reported again this often, with its queue then.
constexpr std::chrono::seconds kRepeat{5};

uint64_t toMicros(LoopLagProbe::Clock::duration value) {
  return value > LoopLagProbe::Clock::duration::zero()
             ? static_cast<uint64_t>(duration_cast<microseconds>(value).count())
             : 0;
}

std::string seconds(LoopLagProbe::Clock::duration value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f s", std::chrono::duration<double>(value).count());
  return text;
}

}  // namespace

WorkerSample sampleWorker(const WatchedWorker& worker, LoopLagProbe::Clock::time_point now) {
  WorkerSample sample;
  sample.started = worker.probe->threadId() != 0;
  // The probe is due one period after it last ran.
  sample.not_run = now - (worker.probe->due() - worker.probe->period());
  for (const Listener* listener : worker.listeners) {
    if (const auto queue = listener->acceptQueue()) {
      sample.queue += queue->length;
      sample.limit += queue->limit;
    }
  }
  return sample;
}

WorkerGauges currentGauges(const WatchedWorker& worker, LoopLagProbe::Clock::time_point now,
                           std::chrono::milliseconds miss) {
  const WorkerSample sample = sampleWorker(worker, now);
  WorkerGauges gauges;
  if (sample.started && sample.not_run > miss) {
    gauges.loop_stalled_ms = toMicros(sample.not_run) / 1000;
  }
  gauges.accept_queue = sample.queue;
  gauges.accept_queue_limit = sample.limit;
  return gauges;
}

Watchdog::Clock::duration Watchdog::checkPeriod(const ServerOptions& options) {
  return LoopLagProbe::periodFor(milliseconds(options.watchdog_miss_ms));
}

Watchdog::Watchdog(const ServerOptions& options, std::vector<WatchedWorker> workers)
    : options_(options),
      period_(checkPeriod(options)),
      miss_(milliseconds(options.watchdog_miss_ms)),
      kill_(std::chrono::seconds(options.watchdog_kill_s)),
      workers_(std::move(workers)),
      states_(workers_.size()) {}

std::vector<Watchdog::Event> Watchdog::check(Clock::time_point now) {
  std::vector<Event> events;
  for (size_t i = 0; i < workers_.size(); ++i) {
    checkWorker(i, now, &events);
  }
  return events;
}

void Watchdog::checkWorker(size_t index, Clock::time_point now, std::vector<Event>* events) {
  const WatchedWorker& worker = workers_[index];
  State& state = states_[index];
  const WorkerSample sample = sampleWorker(worker, now);
  state.last = sample;
  state.last_run = now - sample.not_run;
  // The lags the worker recorded since the last check (its ring holds the last 64, about 3 s of
  // probes: the supervisor checks far more often).
  uint64_t new_lag_max_us = 0;
  bool new_lags = false;
  worker.probe->recentLags().readSince(&state.lag_cursor, [&](uint64_t lag_us) {
    new_lag_max_us = std::max(new_lag_max_us, lag_us);
    new_lags = true;
  });
  state.interval_lag_max_us = std::max(state.interval_lag_max_us, new_lag_max_us);
  state.interval_queue_max = std::max(state.interval_queue_max, sample.queue);
  if (!sample.started) {
    return;
  }
  const Event base{Event::Kind::kStalled,
                   static_cast<int>(index),
                   worker.probe->threadId(),
                   sample.not_run,
                   sample.queue,
                   0,
                   sample.limit};
  const bool stalled_now = sample.not_run > miss_;
  if (state.stalled) {
    state.stall_lag_us = std::max(state.stall_lag_us, new_lag_max_us);
    state.stall_lag_seen = state.stall_lag_seen || new_lags;
    state.stall_queue_max = std::max(state.stall_queue_max, sample.queue);
    if (stalled_now) {
      state.stall_not_run = std::max(state.stall_not_run, sample.not_run);
    }
  }
  if (stalled_now) {
    // A stall in progress is the interval's largest lag so far, even before the probe runs.
    state.interval_lag_max_us = std::max(state.interval_lag_max_us, toMicros(sample.not_run));
    if (!state.stalled) {
      state.stalled = true;
      state.stall_reported = now;
      state.stall_lag_us = 0;
      state.stall_lag_seen = false;
      state.stall_not_run = sample.not_run;
      state.stall_queue_max = sample.queue;
      events->push_back(base);
    } else if (now - state.stall_reported >= kRepeat) {
      state.stall_reported = now;
      Event again = base;
      again.kind = Event::Kind::kStillStalled;
      events->push_back(again);
    }
    if (kill_ > Clock::duration::zero() && sample.not_run >= kill_ && !state.killed) {
      state.killed = true;
      Event kill = base;
      kill.kind = Event::Kind::kKill;
      events->push_back(kill);
    }
    return;
  }
  if (state.stalled) {
    state.stalled = false;
    Event recovered = base;
    recovered.kind = Event::Kind::kRecovered;
    // As the probe measured it; if its lag was overwritten unread (the supervisor fell more than
    // 64 probes behind), the longest the watchdog saw, which is shorter.
    recovered.length = state.stall_lag_seen ? Clock::duration(microseconds(state.stall_lag_us))
                                            : state.stall_not_run;
    recovered.queue_max = state.stall_queue_max;
    events->push_back(recovered);
  }
}

Watchdog::Clock::time_point Watchdog::nextCheck(Clock::time_point now) const {
  Clock::time_point next = Clock::time_point::max();
  for (const State& state : states_) {
    if (!state.last.started || state.stalled) {
      next = std::min(next, now + period_);
    } else {
      next = std::min(next, std::max(now, state.last_run + miss_ + milliseconds(1)));
    }
  }
  return next == Clock::time_point::max() ? now + period_ : next;
}

std::vector<WorkerGauges> Watchdog::takeIntervalGauges(Clock::time_point now,
                                                       std::vector<Event>* events) {
  *events = check(now);
  std::vector<WorkerGauges> gauges(workers_.size());
  for (size_t i = 0; i < workers_.size(); ++i) {
    State& state = states_[i];
    gauges[i].loop_stalled_ms = state.stalled ? toMicros(state.last.not_run) / 1000 : 0;
    gauges[i].loop_lag_max_ms = state.interval_lag_max_us / 1000;
    gauges[i].accept_queue = state.last.queue;
    gauges[i].accept_queue_max = state.interval_queue_max;
    gauges[i].accept_queue_limit = state.last.limit;
    state.interval_lag_max_us = state.stalled ? toMicros(state.last.not_run) : 0;
    state.interval_queue_max = state.last.queue;
  }
  return gauges;
}

std::string Watchdog::describe(const Event& event, const ServerOptions& options) {
  std::string worker = "watchdog: worker " + std::to_string(event.worker);
  const std::string queue =
      std::to_string(event.queue) + " connections waiting in its accept queue";
  switch (event.kind) {
    case Event::Kind::kStalled:
      return worker + ": loop not run for " + seconds(event.length) + ", " + queue + " (thread " +
             std::to_string(event.thread_id) + ")";
    case Event::Kind::kStillStalled:
      return worker + ": loop still not run after " + seconds(event.length) + ", " + queue;
    case Event::Kind::kRecovered:
      return worker + ": loop running again after a stall of " + seconds(event.length) +
             "; up to " + std::to_string(event.queue_max) +
             " connections waited in its accept queue meanwhile, " + std::to_string(event.queue) +
             " now";
    case Event::Kind::kKill:
      return worker + ": loop not run for " + seconds(event.length) +
             " (--watchdog_kill_s=" + std::to_string(options.watchdog_kill_s) + "), " + queue +
             ": aborting with the stack of thread " + std::to_string(event.thread_id);
  }
  return worker;
}

}  // namespace reactord::server
