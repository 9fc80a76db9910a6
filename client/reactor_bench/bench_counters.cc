#include "client/reactor_bench/bench_counters.h"

namespace reactord::client {

BenchTotals& BenchTotals::operator+=(const BenchTotals& other) {
#define REACTOR_BENCH_ADD(name, what) name += other.name;
  REACTOR_BENCH_COUNTERS(REACTOR_BENCH_ADD)
#undef REACTOR_BENCH_ADD
  return *this;
}

BenchTotals& BenchTotals::operator-=(const BenchTotals& other) {
#define REACTOR_BENCH_SUBTRACT(name, what) name -= other.name;
  REACTOR_BENCH_COUNTERS(REACTOR_BENCH_SUBTRACT)
#undef REACTOR_BENCH_SUBTRACT
  return *this;
}

BenchTotals BenchCounters::snapshot() const {
  BenchTotals totals;
#define REACTOR_BENCH_GET(name, what) totals.name = name.get();
  REACTOR_BENCH_COUNTERS(REACTOR_BENCH_GET)
#undef REACTOR_BENCH_GET
  return totals;
}

}  // namespace reactord::client
