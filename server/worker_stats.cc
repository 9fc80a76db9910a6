#include "server/worker_stats.h"

namespace reactord::server {
namespace {

constexpr CounterInfo kCounters[] = {
#define REACTORD_COUNTER_ROW(name, family, label, value, help) \
  {#name, family, label, value, help, &WorkerCounts::name},
    REACTORD_WORKER_COUNTERS(REACTORD_COUNTER_ROW)
#undef REACTORD_COUNTER_ROW
};

}  // namespace

std::span<const CounterInfo> workerCounters() { return kCounters; }

WorkerCounts& WorkerCounts::operator+=(const WorkerCounts& other) {
  for (const CounterInfo& row : kCounters) {
    this->*row.member += other.*row.member;
  }
  read_sizes += other.read_sizes;
  return *this;
}

WorkerCounts& WorkerCounts::operator-=(const WorkerCounts& other) {
  for (const CounterInfo& row : kCounters) {
    this->*row.member -= other.*row.member;
  }
  read_sizes -= other.read_sizes;
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
  return counts;
}

}  // namespace reactord::server
