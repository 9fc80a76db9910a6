#include "server/stats_line.h"

#include <algorithm>
#include <cstdio>

#include "common/json_writer.h"

namespace reactord::server {
namespace {

// The memory keys: the budget (the sum of the shares), what is held now and the highest overload
// level of any worker, then held and level per worker.
void addMemoryKeys(StatsLine& line, const std::vector<MemoryGauges>& memory) {
  uint64_t budget = 0;
  uint64_t held = 0;
  uint64_t overload = 0;
  std::vector<uint64_t> worker_held;
  std::vector<uint64_t> worker_overload;
  for (const MemoryGauges& worker : memory) {
    budget += worker.share;
    held += worker.held;
    overload = std::max(overload, worker.overload);
    worker_held.push_back(worker.held);
    worker_overload.push_back(worker.overload);
  }
  line.add("buffer_budget", budget);
  line.add("buffered_bytes", held);
  line.add("overload_state", overload);
  line.add("worker_buffered_bytes", worker_held);
  line.add("worker_overload_state", worker_overload);
}

// Each gauge, merged over the workers and per worker.
void addGauges(StatsLine& line, const std::vector<WorkerGauges>& gauges) {
  const WorkerGauges merged = mergeGauges(gauges);
  for (const GaugeInfo& row : workerGauges()) {
    std::vector<uint64_t> per_worker;
    per_worker.reserve(gauges.size());
    for (const WorkerGauges& worker : gauges) {
      per_worker.push_back(worker.*row.member);
    }
    line.add(row.key, merged.*row.member);
    line.add(row.worker_key, std::move(per_worker));
  }
}

}  // namespace

void StatsLine::add(std::string_view key, uint64_t value) {
  fields_.push_back({std::string(key), std::to_string(value), {}, false});
}

void StatsLine::add(std::string_view key, double value, int decimals) {
  char text[64];
  const int n = std::snprintf(text, sizeof text, "%.*f", decimals, value);
  fields_.push_back({std::string(key), std::string(text, n > 0 ? n : 0), {}, false});
}

void StatsLine::add(std::string_view key, std::vector<uint64_t> per_worker) {
  fields_.push_back({std::string(key), {}, std::move(per_worker), true});
}

std::string StatsLine::text() const {
  std::string line = label_;
  for (const Field& field : fields_) {
    line += ' ';
    line += field.key;
    line += '=';
    if (!field.is_list) {
      line += field.number;
      continue;
    }
    for (size_t i = 0; i < field.values.size(); ++i) {
      if (i > 0) {
        line += ',';
      }
      line += std::to_string(field.values[i]);
    }
  }
  return line;
}

std::string StatsLine::json() const {
  common::JsonWriter out;
  out.beginObject();
  out.key("event").value(label_);
  for (const Field& field : fields_) {
    out.key(field.key);
    if (!field.is_list) {
      out.rawNumber(field.number);
      continue;
    }
    out.beginArray();
    for (uint64_t value : field.values) {
      out.value(value);
    }
    out.endArray();
  }
  out.endObject();
  return out.take();
}

StatsLine makeStatsLine(std::string label, const std::vector<WorkerCounts>& now,
                        const std::vector<WorkerCounts>& before, double seconds,
                        const IntervalMeasures& measured) {
  WorkerCounts total_now;
  WorkerCounts delta;
  std::vector<uint64_t> worker_active;
  std::vector<uint64_t> worker_accepted;
  std::vector<uint64_t> worker_loop_miss;
  for (size_t i = 0; i < now.size(); ++i) {
    const WorkerCounts worker_delta = i < before.size() ? now[i] - before[i] : now[i];
    total_now += now[i];
    delta += worker_delta;
    worker_active.push_back(now[i].active());
    worker_accepted.push_back(worker_delta.accepted);
    worker_loop_miss.push_back(worker_delta.loop_miss);
  }
  const double per_s = seconds > 0 ? 1.0 / seconds : 0.0;
  StatsLine line(std::move(label));
  line.add("interval_s", seconds, 1);
  line.add("workers", uint64_t{now.size()});
  line.add("active", total_now.active());
  for (const CounterInfo& row : workerCounters()) {
    line.add(row.key, delta.*row.member);
  }
  line.add("conns_per_s", delta.accepted * per_s, 1);
  line.add("reads_per_s", delta.reads * per_s, 1);
  line.add("msgs_per_s", delta.messages * per_s, 1);
  line.add("in_bytes_per_s", delta.bytes_in * per_s, 0);
  line.add("out_bytes_per_s", delta.bytes_out * per_s, 0);
  if (!measured.memory.empty()) {
    addMemoryKeys(line, measured.memory);
  }
  line.add("worker_active", std::move(worker_active));
  line.add("worker_accepted", std::move(worker_accepted));
  line.add("worker_loop_miss", std::move(worker_loop_miss));
  if (!measured.gauges.empty()) {
    addGauges(line, measured.gauges);
  }
  if (measured.listen) {
    line.add("listen_overflows", measured.listen->overflows);
    line.add("listen_drops", measured.listen->drops);
  }
  return line;
}

}  // namespace reactord::server
