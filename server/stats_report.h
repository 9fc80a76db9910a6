#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/listen_counters.h"
#include "common/process_stats.h"
#include "server/admin_stats.h"
#include "server/server_options.h"
#include "server/worker_stats.h"

namespace reactord::server {

// Everything the admin endpoint reports, gathered at one moment: the counters of each worker
// (since the start of the process), what the supervisor measured of each worker, the process's
// state and its configuration. A value type; any thread.
struct StatsReport {
  std::vector<WorkerCounts> workers;  // one per worker, in worker order
  AdminCounts admin;                  // the admin endpoint's own counters
  std::vector<WorkerGauges> gauges;   // one per worker, or empty when they were not measured
  std::string workers_source;         // how the worker count was chosen: "--workers", ...
  std::string version;
  // Memory: each worker's share of the buffer budget, use and overload level (one per worker, or
  // empty), and the process's memory limit with where it came from.
  std::vector<MemoryGauges> memory;
  uint64_t memory_limit_bytes = 0;
  std::string memory_limit_source;
  bool draining = false;            // shutdown began: not accepting new connections
  uint64_t takeovers_served = 0;    // listeners handed over to a newer process (0 or 1)
  uint64_t takeovers_received = 0;  // listeners taken over from an older process (0 or 1)
  double start_time_s = 0;          // the process's start, seconds since the Unix epoch
  double uptime_s = 0;              // seconds since the start
  std::optional<common::ProcessStats> process;   // process_* series; nullopt if /proc failed
  std::optional<common::ListenCounters> listen;  // the network namespace's, since it was made
  ServerOptions options;                         // the configured limits, shown as gauges
};

// The report in the Prometheus text format 0.0.4 (PrometheusWriter::kContentType). Counters are
// reactord_<name>_total for the process and reactord_worker_<name>_total{worker="N"} per worker,
// so that sum() over either never counts twice; gauges and histograms follow the same pattern.
// The names are listed in docs/operations.md, "Metrics".
std::string formatPrometheus(const StatsReport& report);

// The same numbers as one JSON object, keyed like the stats line: {"workers":2, ...,
// "total":{"accepted":...}, "per_worker":[{"worker":0,"active":...}, ...]}. Histograms other than
// the read sizes are summarised: {"count":N,"sum":S,"p50":..,"p90":..,"p99":..}, each quantile
// the upper bound of the bucket it falls in (null: past the largest bound).
std::string formatStatsJson(const StatsReport& report);

}  // namespace reactord::server
