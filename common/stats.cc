#include "common/stats.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>

namespace reactord::common {
namespace {

// Every field, in one place, so that += and -= never miss one.
template <typename Fn>
void forEachField(StatsSnapshot& a, const StatsSnapshot& b, Fn fn) {
  fn(a.accepted, b.accepted);
  fn(a.closed, b.closed);
  fn(a.rejected, b.rejected);
  fn(a.per_ip_rejected, b.per_ip_rejected);
  fn(a.idle_closed, b.idle_closed);
  fn(a.forced_closed, b.forced_closed);
  fn(a.too_long, b.too_long);
  fn(a.write_timeout_closed, b.write_timeout_closed);
  fn(a.message_timeout_closed, b.message_timeout_closed);
  fn(a.overload_closed, b.overload_closed);
  fn(a.conn_errors, b.conn_errors);
  fn(a.accept_errors, b.accept_errors);
  fn(a.reads, b.reads);
  fn(a.messages, b.messages);
  fn(a.bytes_in, b.bytes_in);
  fn(a.bytes_out, b.bytes_out);
  fn(a.bytes_discarded, b.bytes_discarded);
  fn(a.overload_pause_reading, b.overload_pause_reading);
  fn(a.overload_stop_accepting, b.overload_stop_accepting);
  fn(a.overload_close_rounds, b.overload_close_rounds);
  for (size_t i = 0; i < kReadSizeBuckets; ++i) {
    fn(a.read_sizes[i], b.read_sizes[i]);
  }
}

// Appends one formatted piece (a few keys). Three 20-digit numbers and their keys fit the field; a
// longer piece is cut, never read past the field.
void appendf(std::string& out, const char* format, auto... args) {
  char field[256];
  const int n = std::snprintf(field, sizeof field, format, args...);
  out.append(field, n > 0 ? std::min(static_cast<size_t>(n), sizeof field - 1) : 0);
}

// The memory keys: the budget (the sum of the shares), what is held now, the highest overload
// level of any worker, then held and level per worker.
void appendMemoryKeys(std::string& line, const std::vector<MemoryGauges>& memory) {
  uint64_t budget = 0;
  uint64_t held = 0;
  uint64_t overload = 0;
  for (const MemoryGauges& worker : memory) {
    budget += worker.share;
    held += worker.held;
    overload = std::max(overload, worker.overload);
  }
  appendf(line, " buffer_budget=%" PRIu64 " buffered_bytes=%" PRIu64, budget, held);
  appendf(line, " overload_state=%" PRIu64, overload);
  line += " worker_buffered_bytes=";
  for (size_t i = 0; i < memory.size(); ++i) {
    appendf(line, i == 0 ? "%" PRIu64 : ",%" PRIu64, memory[i].held);
  }
  line += " worker_overload_state=";
  for (size_t i = 0; i < memory.size(); ++i) {
    appendf(line, i == 0 ? "%" PRIu64 : ",%" PRIu64, memory[i].overload);
  }
}

}  // namespace

StatsSnapshot& StatsSnapshot::operator+=(const StatsSnapshot& other) {
  forEachField(*this, other, [](uint64_t& a, uint64_t b) { a += b; });
  return *this;
}

StatsSnapshot& StatsSnapshot::operator-=(const StatsSnapshot& other) {
  forEachField(*this, other, [](uint64_t& a, uint64_t b) { a -= b; });
  return *this;
}

StatsSnapshot WorkerStats::snapshot() const {
  StatsSnapshot s;
  s.closed = closed.get();  // before accepted, so that active() never counts a closed one twice
  s.accepted = accepted.get();
  s.rejected = rejected.get();
  s.per_ip_rejected = per_ip_rejected.get();
  s.idle_closed = idle_closed.get();
  s.forced_closed = forced_closed.get();
  s.too_long = too_long.get();
  s.write_timeout_closed = write_timeout_closed.get();
  s.message_timeout_closed = message_timeout_closed.get();
  s.overload_closed = overload_closed.get();
  s.conn_errors = conn_errors.get();
  s.accept_errors = accept_errors.get();
  s.messages = messages.get();
  s.bytes_in = bytes_in.get();
  s.bytes_out = bytes_out.get();
  s.bytes_discarded = bytes_discarded.get();
  s.overload_pause_reading = overload_pause_reading.get();
  s.overload_stop_accepting = overload_stop_accepting.get();
  s.overload_close_rounds = overload_close_rounds.get();
  for (size_t i = 0; i < kReadSizeBuckets; ++i) {
    s.read_sizes[i] = read_sizes[i].get();
    s.reads += s.read_sizes[i];
  }
  return s;
}

std::string formatStatsLine(const char* label, const std::vector<StatsSnapshot>& now,
                            const std::vector<StatsSnapshot>& before, double seconds,
                            const std::vector<MemoryGauges>& memory) {
  StatsSnapshot total_now;
  StatsSnapshot delta;
  for (size_t i = 0; i < now.size(); ++i) {
    total_now += now[i];
    delta += i < before.size() ? now[i] - before[i] : now[i];
  }
  const double per_s = seconds > 0 ? 1.0 / seconds : 0.0;
  std::string line = label;
  appendf(line, " interval_s=%.1f workers=%zu active=%" PRIu64, seconds, now.size(),
          total_now.active());
  appendf(line, " accepted=%" PRIu64 " closed=%" PRIu64 " rejected=%" PRIu64, delta.accepted,
          delta.closed, delta.rejected);
  appendf(line, " per_ip_rejected=%" PRIu64 " idle_closed=%" PRIu64 " forced_closed=%" PRIu64,
          delta.per_ip_rejected, delta.idle_closed, delta.forced_closed);
  appendf(line, " write_timeout_closed=%" PRIu64 " message_timeout_closed=%" PRIu64,
          delta.write_timeout_closed, delta.message_timeout_closed);
  appendf(line, " overload_closed=%" PRIu64 " overload_pause_reading=%" PRIu64,
          delta.overload_closed, delta.overload_pause_reading);
  appendf(line, " overload_stop_accepting=%" PRIu64 " overload_close_rounds=%" PRIu64,
          delta.overload_stop_accepting, delta.overload_close_rounds);
  appendf(line, " too_long=%" PRIu64 " conn_errors=%" PRIu64 " accept_errors=%" PRIu64,
          delta.too_long, delta.conn_errors, delta.accept_errors);
  appendf(line, " conns_per_s=%.1f reads_per_s=%.1f msgs_per_s=%.1f", delta.accepted * per_s,
          delta.reads * per_s, delta.messages * per_s);
  appendf(line, " in_bytes_per_s=%.0f out_bytes_per_s=%.0f", delta.bytes_in * per_s,
          delta.bytes_out * per_s);
  appendf(line, " bytes_in=%" PRIu64 " bytes_out=%" PRIu64, delta.bytes_in, delta.bytes_out);
  if (!memory.empty()) {
    appendMemoryKeys(line, memory);
  }
  line += " worker_active=";
  for (size_t i = 0; i < now.size(); ++i) {
    appendf(line, i == 0 ? "%" PRIu64 : ",%" PRIu64, now[i].active());
  }
  line += " worker_accepted=";
  for (size_t i = 0; i < now.size(); ++i) {
    const uint64_t accepted = now[i].accepted - (i < before.size() ? before[i].accepted : 0);
    appendf(line, i == 0 ? "%" PRIu64 : ",%" PRIu64, accepted);
  }
  return line;
}

}  // namespace reactord::common
