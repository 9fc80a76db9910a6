#include "client/bench_counters.h"

namespace reactord::client {
namespace {

// Every field in one place, so that += and -= never miss one.
template <typename Fn>
void forEachField(BenchTotals& a, const BenchTotals& b, Fn fn) {
  fn(a.messages, b.messages);
  fn(a.connects, b.connects);
  fn(a.closes, b.closes);
  fn(a.mismatches, b.mismatches);
  fn(a.resets, b.resets);
  fn(a.timeouts, b.timeouts);
  fn(a.connect_failures, b.connect_failures);
  fn(a.settled, b.settled);
  fn(a.server_closes, b.server_closes);
}

}  // namespace

BenchTotals& BenchTotals::operator+=(const BenchTotals& other) {
  forEachField(*this, other, [](uint64_t& a, uint64_t b) { a += b; });
  return *this;
}

BenchTotals& BenchTotals::operator-=(const BenchTotals& other) {
  forEachField(*this, other, [](uint64_t& a, uint64_t b) { a -= b; });
  return *this;
}

BenchTotals BenchCounters::snapshot() const {
  BenchTotals t;
  t.messages = messages.get();
  t.connects = connects.get();
  t.closes = closes.get();
  t.mismatches = mismatches.get();
  t.resets = resets.get();
  t.timeouts = timeouts.get();
  t.connect_failures = connect_failures.get();
  t.settled = settled.get();
  t.server_closes = server_closes.get();
  return t;
}

}  // namespace reactord::client
