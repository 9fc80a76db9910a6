#pragma once

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "client/reactor_bench/bench_counters.h"
#include "client/reactor_bench/bench_options.h"
#include "client/reactor_bench/bench_report.h"
#include "client/reactor_bench/bench_worker.h"

namespace reactord::client {

// Runs one reactor-bench load: starts --threads workers, prints a progress line per second on
// stderr, samples the process's CPU time at the window's edges, and sums the workers' results.
// Runs on the calling (main) thread; owns and joins the workers.
class BenchRunner {
 public:
  explicit BenchRunner(BenchOptions options);
  ~BenchRunner();
  BenchRunner(const BenchRunner&) = delete;
  BenchRunner& operator=(const BenchRunner&) = delete;

  // Raises the open-file soft limit to the hard limit. False, with `error`, when the connections
  // asked for cannot fit under it.
  bool prepare(std::string* error);
  // The whole run; returns when every worker finished.
  BenchResult run();

 private:
  void startWorkers(const BenchSchedule& schedule);
  void runTimed(const BenchSchedule& schedule, BenchResult* result);
  void runIdle(BenchResult* result);
  // Prints progress until `deadline_ns`, or until `done()` holds.
  template <typename Done>
  void waitUntil(int64_t deadline_ns, const char* phase, Done done);
  void printProgress(const char* phase, int64_t now);
  BenchTotals sumTotals() const;
  bool allFinished() const;

  const BenchOptions options_;
  BenchPayloads payloads_;
  std::vector<std::unique_ptr<BenchWorker>> workers_;
  std::vector<std::thread> threads_;
  int64_t start_ns_ = 0;
  int64_t next_progress_ns_ = 0;
  int64_t last_progress_ns_ = 0;
  BenchTotals last_progress_totals_;
};

}  // namespace reactord::client
