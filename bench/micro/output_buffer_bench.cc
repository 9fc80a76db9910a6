// Micro-benchmarks of OutputBuffer: what a connection pays when a write comes back short.
// usage: build/bench/output_buffer_bench [--benchmark_filter=...]
#include <benchmark/benchmark.h>

#include <string>

#include "common/output_buffer.h"

namespace reactord::bench {
namespace {

// Append then drain in one go: the usual short-write cycle once the buffer has grown.
void BM_AppendConsumeAll(benchmark::State& state) {
  const std::string chunk(state.range(0), 'x');
  common::OutputBuffer buffer;
  for (auto _ : state) {
    buffer.append(chunk.data(), chunk.size());
    benchmark::DoNotOptimize(buffer.data());
    buffer.consume(buffer.size());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * chunk.size()));
}
BENCHMARK(BM_AppendConsumeAll)->Arg(64)->Arg(1024)->Arg(64 * 1024);

// The socket takes half of what is pending each time: the buffer keeps a backlog and append()
// has to reclaim the consumed front (memmove) or grow.
void BM_AppendConsumeHalf(benchmark::State& state) {
  const std::string chunk(state.range(0), 'x');
  common::OutputBuffer buffer;
  for (auto _ : state) {
    buffer.append(chunk.data(), chunk.size());
    buffer.consume((buffer.size() + 1) / 2);
  }
  benchmark::DoNotOptimize(buffer.size());
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * chunk.size()));
}
BENCHMARK(BM_AppendConsumeHalf)->Arg(64)->Arg(1024)->Arg(64 * 1024);

// A fresh buffer per message: the first short write on an idle connection allocates.
void BM_FirstAppend(benchmark::State& state) {
  const std::string chunk(state.range(0), 'x');
  for (auto _ : state) {
    common::OutputBuffer buffer;
    buffer.append(chunk.data(), chunk.size());
    benchmark::DoNotOptimize(buffer.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * chunk.size()));
}
BENCHMARK(BM_FirstAppend)->Arg(64)->Arg(1024)->Arg(64 * 1024);

}  // namespace
}  // namespace reactord::bench

BENCHMARK_MAIN();
