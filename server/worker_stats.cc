#include "server/worker_stats.h"

#include <algorithm>

namespace reactord::server {
namespace {

constexpr CounterInfo kCounters[] = {
#define REACTORD_COUNTER_ROW(name, family, label, value, help) \
  {#name, family, label, value, help, &WorkerCounts::name},
    REACTORD_WORKER_COUNTERS(REACTORD_COUNTER_ROW)
#undef REACTORD_COUNTER_ROW
};

constexpr HistogramInfo kHistograms[] = {
    {"read_sizes", "read_size_bytes", 1, true, false,
     "Bytes returned by each read() of client data, in powers-of-two buckets.",
     [](const WorkerCounts& c) {
       return HistogramView{c.read_sizes.buckets, c.read_sizes.sum};
     }},
#define REACTORD_HISTOGRAM_ROW(name, bucket_count, family, unit, per_worker, help) \
  {#name, family, unit, per_worker, true, help, [](const WorkerCounts& c) {        \
     return HistogramView{c.name.buckets, c.name.sum};                             \
   }},
    REACTORD_WORKER_HISTOGRAMS(REACTORD_HISTOGRAM_ROW)
#undef REACTORD_HISTOGRAM_ROW
};

constexpr GaugeInfo kGauges[] = {
#define REACTORD_GAUGE_ROW(name, family, unit, merge, help) \
  {#name, "worker_" #name, family, unit, GaugeMerge::merge, help, &WorkerGauges::name},
    REACTORD_WORKER_GAUGES(REACTORD_GAUGE_ROW)
#undef REACTORD_GAUGE_ROW
};

}  // namespace

std::span<const CounterInfo> workerCounters() { return kCounters; }
std::span<const HistogramInfo> workerHistograms() { return kHistograms; }
std::span<const GaugeInfo> workerGauges() { return kGauges; }

WorkerGauges mergeGauges(std::span<const WorkerGauges> workers) {
  WorkerGauges total;
  for (const WorkerGauges& worker : workers) {
    for (const GaugeInfo& row : kGauges) {
      uint64_t& value = total.*row.member;
      value = row.merge == GaugeMerge::kSum ? value + worker.*row.member
                                            : std::max(value, worker.*row.member);
    }
  }
  return total;
}

WorkerCounts& WorkerCounts::operator+=(const WorkerCounts& other) {
  for (const CounterInfo& row : kCounters) {
    this->*row.member += other.*row.member;
  }
  read_sizes += other.read_sizes;
#define REACTORD_HISTOGRAM_ADD(name, bucket_count, family, unit, per_worker, help) \
  name += other.name;
  REACTORD_WORKER_HISTOGRAMS(REACTORD_HISTOGRAM_ADD)
#undef REACTORD_HISTOGRAM_ADD
  return *this;
}

WorkerCounts& WorkerCounts::operator-=(const WorkerCounts& other) {
  for (const CounterInfo& row : kCounters) {
    this->*row.member -= other.*row.member;
  }
  read_sizes -= other.read_sizes;
#define REACTORD_HISTOGRAM_SUBTRACT(name, bucket_count, family, unit, per_worker, help) \
  name -= other.name;
  REACTORD_WORKER_HISTOGRAMS(REACTORD_HISTOGRAM_SUBTRACT)
#undef REACTORD_HISTOGRAM_SUBTRACT
  return *this;
}

WorkerCounts WorkerStats::snapshot() const {
  WorkerCounts counts;
  counts.closed =
      closed.get();  // before accepted, so that active() never counts a closed one twice
#define REACTORD_SNAPSHOT_FIELD(name, family, label, value, help) \
  if (&WorkerCounts::name != &WorkerCounts::closed) {             \
    counts.name = name.get();                                     \
  }
  REACTORD_WORKER_COUNTERS(REACTORD_SNAPSHOT_FIELD)
#undef REACTORD_SNAPSHOT_FIELD
  counts.read_sizes = read_sizes.snapshot(counts.bytes_in - counts.bytes_discarded);
  counts.reads = counts.read_sizes.count();
#define REACTORD_HISTOGRAM_SNAPSHOT(name, bucket_count, family, unit, per_worker, help) \
  counts.name = name.snapshot();
  REACTORD_WORKER_HISTOGRAMS(REACTORD_HISTOGRAM_SNAPSHOT)
#undef REACTORD_HISTOGRAM_SNAPSHOT
  return counts;
}

}  // namespace reactord::server
