// Micro-benchmarks of LineFramer::feed: the acknowledgement protocol scans every byte it receives.
// usage: build/bench/line_framer_bench [--benchmark_filter=...]
#include <benchmark/benchmark.h>

#include <string>

#include "common/line_framer.h"

namespace reactord::bench {
namespace {

// A chunk of `count` lines of `line_bytes` bytes each (the '\n' included).
std::string lines(size_t count, size_t line_bytes) {
  std::string line(line_bytes - 1, 'x');
  line += '\n';
  std::string chunk;
  for (size_t i = 0; i < count; ++i) {
    chunk += line;
  }
  return chunk;
}

// One read() worth of short lines, as a pipelining client sends them.
void BM_FeedShortLines(benchmark::State& state) {
  const std::string chunk = lines(4096 / state.range(0), state.range(0));
  common::LineFramer framer;
  size_t complete = 0;
  for (auto _ : state) {
    complete += framer.feed(chunk.data(), chunk.size(), 64 * 1024).complete;
  }
  benchmark::DoNotOptimize(complete);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * chunk.size()));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * (4096 / state.range(0))));
}
BENCHMARK(BM_FeedShortLines)->Arg(16)->Arg(64)->Arg(1024);

// A long message arriving in 4 KiB pieces with no '\n' yet: the partial-line path.
void BM_FeedNoNewline(benchmark::State& state) {
  const std::string chunk(state.range(0), 'x');
  for (auto _ : state) {
    common::LineFramer framer;
    benchmark::DoNotOptimize(framer.feed(chunk.data(), chunk.size(), 1 << 30));
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * chunk.size()));
}
BENCHMARK(BM_FeedNoNewline)->Arg(64)->Arg(4096)->Arg(64 * 1024);

// One line split across two reads, the most common shape under load.
void BM_FeedSplitLine(benchmark::State& state) {
  const std::string line = lines(1, 64);
  common::LineFramer framer;
  size_t complete = 0;
  for (auto _ : state) {
    framer.feed(line.data(), 40, 64 * 1024);
    complete += framer.feed(line.data() + 40, line.size() - 40, 64 * 1024).complete;
  }
  benchmark::DoNotOptimize(complete);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_FeedSplitLine);

}  // namespace
}  // namespace reactord::bench

BENCHMARK_MAIN();
