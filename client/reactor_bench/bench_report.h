#pragma once

#include <cstdint>
#include <string>

#include "client/reactor_bench/bench_counters.h"
#include "client/reactor_bench/bench_options.h"
#include "client/reactor_bench/latency_histogram.h"

namespace reactord::client {

// The outcome of one reactor-bench run. A value type, filled by BenchRunner.
struct BenchResult {
  BenchOptions options;
  double duration_s = 0;      // the measured window (mode=idle: the hold)
  BenchTotals window;         // counted inside the window (mode=idle: the whole run)
  BenchTotals all;            // the whole run, warm-up and drain included: errors come from here
  LatencyHistogram latency;   // replies received inside the window, in nanoseconds
  LatencyHistogram send_lag;  // mode=rate: actual minus intended send time, nanoseconds
  double client_cpu_s = 0;    // user + system CPU of reactor-bench over the window
  uint64_t open_at_once = 0;  // open at the end of the hold (idle) or the window (stall)

  bool failed() const { return all.errors() > 0; }
};

// ONE line of JSON, no newline, with the keys documented in docs/client-tools.md, "Output".
std::string formatJson(const BenchResult& result);
// A few lines for people.
std::string formatSummary(const BenchResult& result);
// mode=rate: a warning when reactor-bench itself sent late enough to weigh in the latency figures
// (send lag p99 over 1 ms and over a tenth of the latency p99); empty otherwise.
std::string clientLagWarning(const BenchResult& result);

}  // namespace reactord::client
