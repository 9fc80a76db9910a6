#include "client/reactor_bench/bench_options.h"

#include <time.h>

namespace reactord::client {
namespace {

struct ModeName {
  BenchMode mode;
  const char* name;
};
constexpr ModeName kModeNames[] = {
    {BenchMode::kPingPong, "pingpong"}, {BenchMode::kRate, "rate"}, {BenchMode::kChurn, "churn"},
    {BenchMode::kBulk, "bulk"},         {BenchMode::kIdle, "idle"}, {BenchMode::kStall, "stall"}};

}  // namespace

std::optional<BenchMode> parseBenchMode(std::string_view name) {
  for (const ModeName& entry : kModeNames) {
    if (name == entry.name) {
      return entry.mode;
    }
  }
  return std::nullopt;
}

const char* benchModeName(BenchMode mode) {
  for (const ModeName& entry : kModeNames) {
    if (mode == entry.mode) {
      return entry.name;
    }
  }
  return "?";
}

int64_t nowNanos() {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  return int64_t{now.tv_sec} * 1'000'000'000 + now.tv_nsec;
}

}  // namespace reactord::client
