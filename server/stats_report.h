#pragma once

#include <string>
#include <vector>

#include "server/admin_stats.h"
#include "server/worker_stats.h"

namespace reactord::server {

// Everything the admin endpoint reports, gathered at one moment: the counters of each worker
// (since the start of the process) and the process's state. A value type; any thread.
struct StatsReport {
  std::vector<WorkerCounts> workers;  // one per worker, in worker order
  AdminCounts admin;                  // the admin endpoint's own counters
  std::string workers_source;         // how the worker count was chosen: "--workers", ...
  std::string version;
  bool draining = false;            // shutdown began: not accepting new connections
  uint64_t takeovers_served = 0;    // listeners handed over to a newer process (0 or 1)
  uint64_t takeovers_received = 0;  // listeners taken over from an older process (0 or 1)
  double start_time_s = 0;          // the process's start, seconds since the Unix epoch
  double uptime_s = 0;              // seconds since the start
};

// The report in the Prometheus text format 0.0.4 (PrometheusWriter::kContentType). Counters are
// reactord_<name>_total for the process and reactord_worker_<name>_total{worker="N"} per worker,
// so that sum() over either never counts twice. The names are listed in the README.
std::string formatPrometheus(const StatsReport& report);

// The same numbers as one JSON object, keyed like the stats line: {"workers":2, ...,
// "total":{"accepted":...}, "per_worker":[{"worker":0,"active":...}, ...]}.
std::string formatStatsJson(const StatsReport& report);

}  // namespace reactord::server
