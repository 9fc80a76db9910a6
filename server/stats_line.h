#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/listen_counters.h"
#include "server/worker_stats.h"

namespace reactord::server {

// One stats log line as structured values, rendered as text ("stats interval_s=2.0 workers=2
// active=7 ... worker_active=4,3") or as one JSON object with the same keys and numbers
// ({"event":"stats","interval_s":2.0,...,"worker_active":[4,3]}). Both renderings come from the
// same values; nothing is parsed back. The keys are stable and listed in docs/operations.md,
// "Stats lines". A value type; any thread.
class StatsLine {
 public:
  explicit StatsLine(std::string label) : label_(std::move(label)) { fields_.reserve(64); }

  void add(std::string_view key, uint64_t value);
  // A rate or a duration, printed with `decimals` digits after the point in both renderings.
  void add(std::string_view key, double value, int decimals);
  // One value per worker: "key=1,2,3" and "key":[1,2,3].
  void add(std::string_view key, std::vector<uint64_t> per_worker);

  std::string text() const;
  std::string json() const;

 private:
  struct Field {
    std::string key;
    std::string number;            // scalar, already formatted (a JSON number)
    std::vector<uint64_t> values;  // per worker, when is_list
    bool is_list = false;
  };

  std::string label_;
  std::vector<Field> fields_;
};

// What the supervisor measured from outside the workers over an interval. Whatever is empty was
// not measured, and its keys are left out of the line rather than shown as zeros.
struct IntervalMeasures {
  std::vector<WorkerGauges> gauges;              // one per worker, for the interval
  std::optional<common::ListenCounters> listen;  // the kernel's counters: the interval's increase
  std::vector<MemoryGauges> memory;              // one per worker: budget share, held, level
};

// The line for an interval: `now` and `before` hold one snapshot per worker (before may be empty:
// counts since the start); counts are now - before, rates divide them by `seconds`, gauges (active,
// per-worker active, and the memory keys from `measured.memory`, one per worker, when given) come
// from `now`. Every counter of REACTORD_WORKER_COUNTERS is in it, and with `measured.gauges` every
// gauge of REACTORD_WORKER_GAUGES, merged ("accept_queue=3") and per worker
// ("worker_accept_queue=1,2").
StatsLine makeStatsLine(std::string label, const std::vector<WorkerCounts>& now,
                        const std::vector<WorkerCounts>& before, double seconds,
                        const IntervalMeasures& measured = {});

}  // namespace reactord::server
