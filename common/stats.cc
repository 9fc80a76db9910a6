#include "common/stats.h"

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
  fn(a.conn_errors, b.conn_errors);
  fn(a.accept_errors, b.accept_errors);
  fn(a.reads, b.reads);
  fn(a.messages, b.messages);
  fn(a.bytes_in, b.bytes_in);
  fn(a.bytes_out, b.bytes_out);
  fn(a.bytes_discarded, b.bytes_discarded);
  for (size_t i = 0; i < kReadSizeBuckets; ++i) {
    fn(a.read_sizes[i], b.read_sizes[i]);
  }
}

void appendf(std::string& out, const char* format, auto... args) {
  char field[64];
  const int n = std::snprintf(field, sizeof field, format, args...);
  out.append(field, n > 0 ? static_cast<size_t>(n) : 0);
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
  s.conn_errors = conn_errors.get();
  s.accept_errors = accept_errors.get();
  s.messages = messages.get();
  s.bytes_in = bytes_in.get();
  s.bytes_out = bytes_out.get();
  s.bytes_discarded = bytes_discarded.get();
  for (size_t i = 0; i < kReadSizeBuckets; ++i) {
    s.read_sizes[i] = read_sizes[i].get();
    s.reads += s.read_sizes[i];
  }
  return s;
}

AdminStatsSnapshot operator-(AdminStatsSnapshot a, const AdminStatsSnapshot& b) {
  a.accepted -= b.accepted;
  a.closed -= b.closed;
  a.rejected -= b.rejected;
  a.timed_out -= b.timed_out;
  a.accept_errors -= b.accept_errors;
  return a;
}

AdminStatsSnapshot AdminStats::snapshot() const {
  AdminStatsSnapshot s;
  s.closed = closed.get();  // before accepted, so that active() never counts a closed one twice
  s.accepted = accepted.get();
  s.rejected = rejected.get();
  s.timed_out = timed_out.get();
  s.accept_errors = accept_errors.get();
  return s;
}

std::string formatStatsLine(const char* label, const std::vector<StatsSnapshot>& now,
                            const std::vector<StatsSnapshot>& before, double seconds,
                            const AdminStatsSnapshot* admin) {
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
  appendf(line, " too_long=%" PRIu64 " conn_errors=%" PRIu64 " accept_errors=%" PRIu64,
          delta.too_long, delta.conn_errors, delta.accept_errors);
  if (admin != nullptr) {
    appendf(line, " admin_rejected=%" PRIu64 " admin_timed_out=%" PRIu64, admin->rejected,
            admin->timed_out);
  }
  appendf(line, " conns_per_s=%.1f reads_per_s=%.1f msgs_per_s=%.1f", delta.accepted * per_s,
          delta.reads * per_s, delta.messages * per_s);
  appendf(line, " in_bytes_per_s=%.0f out_bytes_per_s=%.0f", delta.bytes_in * per_s,
          delta.bytes_out * per_s);
  appendf(line, " bytes_in=%" PRIu64 " bytes_out=%" PRIu64, delta.bytes_in, delta.bytes_out);
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
