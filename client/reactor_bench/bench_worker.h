#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <utility>
#include <vector>

#include "client/reactor_bench/bench_connection.h"
#include "client/reactor_bench/bench_counters.h"
#include "client/reactor_bench/bench_options.h"
#include "client/reactor_bench/latency_histogram.h"
#include "client/reactor_bench/payload.h"
#include "common/event.h"
#include "common/event_base_ptr.h"
#include "common/unique_fd.h"

namespace reactord::client {

// The payload streams of a run, built once and shared read-only by every worker.
struct BenchPayloads {
  Payload requests;
  Payload replies;
};

// What one worker thread is given.
struct BenchWorkerPlan {
  int index = 0;
  uint32_t first_id = 0;  // connection ids first_id .. first_id + connections - 1
  int connections = 0;
  double rate = 0;  // messages/s for this worker's connections, mode=rate; connects/s for churn
                    // at --connect_rate
};

// One load-generator thread: its own event_base and connections, counters that the runner reads
// while it runs, and a latency histogram and window totals that the runner reads after joining it.
// The runner creates and destroys it; run() is the worker thread's whole life, and the loop objects
// (base, events, connections) exist only inside it.
class BenchWorker final : private ConnectionOwner {
 public:
  BenchWorker(const BenchOptions& options, const BenchPayloads& payloads, BenchSchedule schedule,
              BenchWorkerPlan plan);

  // Worker-thread-only: connects, runs the phases of the schedule, drains, returns when every
  // connection is closed.
  void run();
  // Thread-safe: ends the window now and drains (mode=idle, whose window has no planned end).
  void requestDrain();
  // Thread-safe.
  BenchTotals totals() const { return counters_.snapshot(); }
  bool finished() const { return finished_.load(std::memory_order_acquire); }

  // After run() returned, read by the thread that joined it.
  BenchTotals windowTotals() const { return window_end_totals_ - window_start_totals_; }
  const LatencyHistogram& latency() const { return histogram_; }
  // mode=rate: how late this worker sent each message of the window after its intended time.
  const LatencyHistogram& sendLag() const { return send_lag_; }
  // Connections open when the window ended (mode=stall closes them all right after).
  uint64_t openAtWindowEnd() const { return window_end_totals_.open(); }
  double windowSeconds() const {
    return static_cast<double>(window_end_ns_ - window_start_ns_) / 1e9;
  }

 private:
  static constexpr int kMaxConnecting = 128;  // connects in progress at once
  static constexpr size_t kReadBufferBytes = size_t{256} * 1024;
  static constexpr int kRateBatch = 4096;  // messages sent per rate callback at most

  template <void (BenchWorker::*Method)()>
  static void thunk(evutil_socket_t, short, void* self) {
    (static_cast<BenchWorker*>(self)->*Method)();
  }
  void requestStart(BenchConnection* connection, int64_t at_ns) override;
  void connectSettled() override;

  void setUpLoop();
  void setUpTimers();
  void startWaiting(int64_t now);
  void onTick();
  void onWindowStart();
  void onWindowEnd();
  void onRate();
  void onConnectRate();
  bool connectRateMode() const {
    return options_.mode == BenchMode::kChurn && options_.connect_rate > 0;
  }
  void onWake();
  void onKick();
  void endWindow(int64_t now);
  void addTimerAt(common::Event& event, int64_t at_ns);

  const BenchOptions& options_;
  const BenchPayloads& payloads_;
  const BenchSchedule schedule_;
  const BenchWorkerPlan plan_;
  BenchCounters counters_;
  std::atomic<bool> drain_requested_{false};
  std::atomic<bool> finished_{false};
  common::UniqueFd wake_fd_;  // eventfd: requestDrain() -> the loop

  // Loop-thread state. The base is declared first so that it is destroyed last.
  common::EventBasePtr base_;
  std::vector<char> read_buffer_;
  BenchContext context_;
  LatencyHistogram histogram_;
  LatencyHistogram send_lag_;
  std::vector<std::unique_ptr<BenchConnection>> connections_;
  std::deque<BenchConnection*> ready_;                      // to start as soon as possible
  std::deque<std::pair<BenchConnection*, int64_t>> retry_;  // to start at a time (FIFO)
  std::deque<BenchConnection*> idle_;  // churn at --connect_rate: slots free for the next connect
  int connecting_ = 0;
  bool connect_rate_blocked_ = false;  // connects due wait for one in progress to settle
  common::Event tick_, window_start_, window_end_, rate_, kick_, wake_;
  uint64_t rate_sequence_ = 0;  // messages scheduled so far
  double rate_interval_ns_ = 0;
  int64_t rate_origin_ns_ = 0;  // intended time of message 0
  int64_t rate_next_ns_ = 0;
  int64_t drain_started_ns_ = 0;
  BenchTotals window_start_totals_, window_end_totals_;
  int64_t window_start_ns_ = 0;
  int64_t window_end_ns_ = 0;
};

}  // namespace reactord::client
