#include "client/reactor_bench/bench_worker.h"

#include <glog/logging.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "client/reactor_bench/precise_timer_base.h"

namespace reactord::client {
namespace {

constexpr int64_t kTickNs = 100'000'000;
constexpr size_t kBulkWindowBytes = 256 << 10;  // bytes in flight per connection in mode=bulk
constexpr int64_t kDrainGraceNs = 1'000'000'000;
constexpr size_t kStallAckChunkBytes = 64 << 10;

timeval toTimeval(int64_t nanos) {
  nanos = std::max<int64_t>(0, nanos);
  return timeval{static_cast<time_t>(nanos / 1'000'000'000),
                 static_cast<suseconds_t>(nanos % 1'000'000'000 / 1000)};
}

size_t messagesInFlight(const BenchOptions& options, size_t request_bytes) {
  if (options.mode == BenchMode::kBulk) {
    const size_t window = (kBulkWindowBytes + request_bytes - 1) / request_bytes;
    return std::max(static_cast<size_t>(options.pipeline), window);
  }
  return static_cast<size_t>(options.pipeline);
}

}  // namespace

BenchWorker::BenchWorker(const BenchOptions& options, const BenchPayloads& payloads,
                         BenchSchedule schedule, BenchWorkerPlan plan)
    : options_(options),
      payloads_(payloads),
      schedule_(schedule),
      plan_(plan),
      wake_fd_(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
  PCHECK(wake_fd_.valid()) << "eventfd for bench worker " << plan.index;
}

void BenchWorker::run() {
  setUpLoop();
  startWaiting(nowNanos());
  event_base_dispatch(base_.get());
  // Connections and events go before the base they are registered with.
  connections_.clear();
  for (common::Event* event : {&tick_, &window_start_, &window_end_, &rate_, &kick_, &wake_}) {
    event->reset();
  }
  base_.reset();
  finished_.store(true, std::memory_order_release);
}

void BenchWorker::setUpLoop() {
  // Open-loop sends must not wait for epoll's millisecond rounding; other modes skip its cost.
  base_ =
      options_.mode == BenchMode::kRate ? makePreciseTimerBase() : common::makeSingleThreadBase();
  read_buffer_.resize(kReadBufferBytes);
  context_.base = base_.get();
  context_.loop_thread = std::this_thread::get_id();
  context_.options = &options_;
  context_.requests = &payloads_.requests;
  context_.replies = &payloads_.replies;
  context_.request_bytes = static_cast<size_t>(options_.message_bytes);
  context_.reply_bytes =
      options_.protocol == Protocol::kEcho ? context_.request_bytes : kAckReply.size();
  context_.window = messagesInFlight(options_, context_.request_bytes);
  // mode=stall: echo writes --message_bytes at a time; ack as many whole lines as fit in 64 KiB.
  context_.stall_chunk_bytes =
      options_.protocol == Protocol::kEcho
          ? context_.request_bytes
          : std::max<size_t>(1, kStallAckChunkBytes / context_.request_bytes) *
                context_.request_bytes;
  context_.counters = &counters_;
  context_.histogram = &histogram_;
  context_.owner = this;
  context_.read_buffer = read_buffer_.data();
  context_.read_buffer_size = read_buffer_.size();
  for (int i = 0; i < plan_.connections; ++i) {
    connections_.push_back(
        std::make_unique<BenchConnection>(context_, plan_.first_id + static_cast<uint32_t>(i)));
    // At --connect_rate the schedule starts them; otherwise they all start now.
    (connectRateMode() ? idle_ : ready_).push_back(connections_.back().get());
  }
  setUpTimers();
}

void BenchWorker::setUpTimers() {
  const timeval tick = toTimeval(kTickNs);
  tick_.assign(base_.get(), -1, EV_PERSIST, &thunk<&BenchWorker::onTick>, this);
  tick_.add(&tick);
  kick_.assign(base_.get(), -1, 0, &thunk<&BenchWorker::onKick>, this);
  wake_.assign(base_.get(), wake_fd_.get(), EV_READ | EV_PERSIST, &thunk<&BenchWorker::onWake>,
               this);
  wake_.add();
  if (options_.mode == BenchMode::kIdle) {
    context_.measuring = true;  // the window is the whole run until requestDrain()
    window_start_ns_ = schedule_.start_ns;
  } else {
    window_start_.assign(base_.get(), -1, 0, &thunk<&BenchWorker::onWindowStart>, this);
    if (schedule_.window_start_ns <= schedule_.start_ns) {
      onWindowStart();  // no warm-up: the first connects count too, and the window starts with
      window_start_ns_ = schedule_.start_ns;  // the schedule (nothing happened before it)
    } else {
      addTimerAt(window_start_, schedule_.window_start_ns);
    }
    window_end_.assign(base_.get(), -1, 0, &thunk<&BenchWorker::onWindowEnd>, this);
    addTimerAt(window_end_, schedule_.window_end_ns);
  }
  const bool open_loop = options_.mode == BenchMode::kRate || connectRateMode();
  if (open_loop && plan_.rate > 0 && plan_.connections > 0) {
    rate_interval_ns_ = 1e9 / plan_.rate;
    // Workers start a fraction of an interval apart, so they do not send in lock step.
    rate_origin_ns_ = schedule_.start_ns +
                      static_cast<int64_t>(rate_interval_ns_ * plan_.index / options_.threads);
    rate_next_ns_ = rate_origin_ns_;
    if (connectRateMode()) {
      rate_.assign(base_.get(), -1, 0, &thunk<&BenchWorker::onConnectRate>, this);
    } else {
      rate_.assign(base_.get(), -1, 0, &thunk<&BenchWorker::onRate>, this);
    }
    addTimerAt(rate_, rate_next_ns_);
  }
}

void BenchWorker::addTimerAt(common::Event& event, int64_t at_ns) {
  const timeval delay = toTimeval(at_ns - nowNanos());
  event.add(&delay);
}

void BenchWorker::requestStart(BenchConnection* connection, int64_t at_ns) {
  if (connectRateMode()) {
    idle_.push_back(connection);  // the schedule, not the slot, decides when it connects again
    return;
  }
  if (at_ns <= nowNanos()) {
    ready_.push_back(connection);
    kick_.activate(EV_TIMEOUT);
  } else {
    retry_.emplace_back(connection, at_ns);
  }
}

void BenchWorker::connectSettled() {
  --connecting_;
  if (connect_rate_blocked_ && !context_.draining) {
    connect_rate_blocked_ = false;
    rate_.activate(EV_TIMEOUT);
  }
  if (!ready_.empty()) {
    kick_.activate(EV_TIMEOUT);
  }
}

void BenchWorker::startWaiting(int64_t now) {
  while (!context_.draining && !ready_.empty() && connecting_ < kMaxConnecting) {
    BenchConnection* connection = ready_.front();
    ready_.pop_front();
    ++connecting_;
    connection->start(now);
  }
}

void BenchWorker::onKick() { startWaiting(nowNanos()); }

void BenchWorker::onTick() {
  const int64_t now = nowNanos();
  while (!retry_.empty() && retry_.front().second <= now) {
    ready_.push_back(retry_.front().first);
    retry_.pop_front();
  }
  for (const auto& connection : connections_) {
    connection->checkTimeout(now);
  }
  if (!context_.draining) {
    startWaiting(now);
    return;
  }
  const bool all_closed = std::all_of(connections_.begin(), connections_.end(),
                                      [](const auto& c) { return c->closed(); });
  const int64_t give_up =
      drain_started_ns_ + int64_t{options_.timeout_ms} * 1'000'000 + kDrainGraceNs;
  if (all_closed || now > give_up) {
    event_base_loopexit(base_.get(), nullptr);
  }
}

void BenchWorker::onWindowStart() {
  window_start_totals_ = counters_.snapshot();
  histogram_.reset();
  send_lag_.reset();
  context_.measuring = true;
  window_start_ns_ = nowNanos();
}

void BenchWorker::onWindowEnd() { endWindow(nowNanos()); }

void BenchWorker::endWindow(int64_t now) {
  if (context_.draining) {
    return;
  }
  window_end_totals_ = counters_.snapshot();
  context_.measuring = false;
  window_end_ns_ = now;
  context_.draining = true;
  drain_started_ns_ = now;
  rate_.remove();
  ready_.clear();
  retry_.clear();
  idle_.clear();
  for (const auto& connection : connections_) {
    connection->drain(now);
  }
}

void BenchWorker::onRate() {
  const int64_t now = nowNanos();
  for (int sent = 0; rate_next_ns_ <= now && sent < kRateBatch; ++sent) {
    connections_[rate_sequence_ % connections_.size()]->sendAt(rate_next_ns_, now);
    if (context_.measuring) {
      send_lag_.record(static_cast<uint64_t>(now - rate_next_ns_));
    }
    ++rate_sequence_;
    rate_next_ns_ = rate_origin_ns_ +
                    static_cast<int64_t>(static_cast<double>(rate_sequence_) * rate_interval_ns_);
  }
  addTimerAt(rate_, rate_next_ns_);
}

void BenchWorker::onConnectRate() {
  const int64_t now = nowNanos();
  for (int started = 0; rate_next_ns_ <= now && started < kRateBatch; ++started) {
    if (connecting_ >= kMaxConnecting) {
      // Connects due while this many are in progress (a late timer on a busy machine): start them
      // late rather than not at all, as soon as one settles (connectSettled()).
      connect_rate_blocked_ = true;
      return;
    }
    if (idle_.empty()) {
      counters_.missed_connects.add();  // every slot busy: counted, never hidden
    } else {
      BenchConnection* connection = idle_.front();
      idle_.pop_front();
      ++connecting_;
      connection->start(now);
    }
    ++rate_sequence_;
    rate_next_ns_ = rate_origin_ns_ +
                    static_cast<int64_t>(static_cast<double>(rate_sequence_) * rate_interval_ns_);
  }
  addTimerAt(rate_, rate_next_ns_);
}

void BenchWorker::requestDrain() {
  drain_requested_.store(true, std::memory_order_release);
  const uint64_t one = 1;
  if (write(wake_fd_.get(), &one, sizeof one) != sizeof one) {
    PLOG(ERROR) << "cannot wake bench worker " << plan_.index;
  }
}

void BenchWorker::onWake() {
  uint64_t value = 0;
  if (read(wake_fd_.get(), &value, sizeof value) < 0 && errno != EAGAIN) {
    PLOG(ERROR) << "reading the wake-up eventfd of bench worker " << plan_.index;
  }
  if (drain_requested_.load(std::memory_order_acquire)) {
    endWindow(nowNanos());
  }
}

}  // namespace reactord::client
