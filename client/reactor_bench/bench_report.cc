#include "client/reactor_bench/bench_report.h"

#include <cinttypes>
#include <cstdio>

namespace reactord::client {
namespace {

void appendf(std::string& out, const char* format, auto... args) {
  char field[256];
  const int n = std::snprintf(field, sizeof field, format, args...);
  out.append(field, n > 0 ? static_cast<size_t>(n) : 0);
}

double perSecond(double count, double seconds) { return seconds > 0 ? count / seconds : 0.0; }

double micros(uint64_t nanos) { return static_cast<double>(nanos) / 1000.0; }

}  // namespace

std::string formatJson(const BenchResult& r) {
  const BenchOptions& o = r.options;
  const auto messages = static_cast<double>(r.window.messages);
  std::string out;
  appendf(out, R"({"mode":"%s","protocol":"%s","threads":%d,"connections":%d,)",
          benchModeName(o.mode), protocolName(o.protocol), o.threads, o.connections);
  appendf(out, R"("message_bytes":%d,"pipeline":%d,"duration_s":%.3f,)", o.message_bytes,
          o.pipeline, r.duration_s);
  appendf(out, R"("messages":%)" PRIu64 R"(,"msgs_per_s":%.1f,"bytes_per_s":%.1f,)",
          r.window.messages, perSecond(messages, r.duration_s),
          perSecond(messages * o.message_bytes, r.duration_s));
  appendf(out, R"("connects":%)" PRIu64 R"(,"connects_per_s":%.1f,)", r.window.connects,
          perSecond(static_cast<double>(r.window.connects), r.duration_s));
  appendf(out,
          R"("errors":{"mismatches":%)" PRIu64 R"(,"resets":%)" PRIu64 R"(,"timeouts":%)" PRIu64
          R"(,"connect_failures":%)" PRIu64 R"(,"connect_refused":%)" PRIu64
          R"(,"connect_timeouts":%)" PRIu64 "},",
          r.all.mismatches, r.all.resets, r.all.timeouts, r.all.connect_failures,
          r.all.connect_refused, r.all.connect_timeouts);
  appendf(out, R"("missed_connects":%)" PRIu64 ",", r.all.missed_connects);
  appendf(out, R"("latency_us":{"p50":%.3f,"p90":%.3f,"p99":%.3f,)",
          micros(r.latency.percentile(50)), micros(r.latency.percentile(90)),
          micros(r.latency.percentile(99)));
  appendf(out, R"("p999":%.3f,"max":%.3f},"client_cpu_s":%.3f)", micros(r.latency.percentile(99.9)),
          micros(r.latency.max()), r.client_cpu_s);
  if (o.mode == BenchMode::kStall) {
    appendf(out, R"(,"server_closes":%)" PRIu64 R"(,"open_at_end":%)" PRIu64, r.all.server_closes,
            r.open_at_once);
  }
  out += "}";
  return out;
}

std::string clientLagWarning(const BenchResult& r) {
  if (r.options.mode != BenchMode::kRate) {
    return {};
  }
  const uint64_t lag = r.send_lag.percentile(99);
  const uint64_t latency = r.latency.percentile(99);
  if (lag <= 1'000'000 || lag * 10 <= latency) {
    return {};
  }
  std::string out;
  appendf(out,
          "warning: reactor-bench sent late (send lag p99 %.1f us, latency p99 %.1f us): the "
          "latency includes the client's own delay; use more --threads or a quieter machine",
          micros(lag), micros(latency));
  return out;
}

std::string formatSummary(const BenchResult& r) {
  const BenchOptions& o = r.options;
  const auto messages = static_cast<double>(r.window.messages);
  std::string out;
  appendf(out, "reactor-bench mode=%s protocol=%s threads=%d connections=%d message_bytes=%d",
          benchModeName(o.mode), protocolName(o.protocol), o.threads, o.connections,
          o.message_bytes);
  appendf(out, " pipeline=%d server=%s\n", o.pipeline, o.address.toString().c_str());
  if (o.mode == BenchMode::kIdle) {
    appendf(out, "  open at once  %" PRIu64 " of %d, held %.2f s\n", r.open_at_once, o.connections,
            r.duration_s);
  } else if (o.mode == BenchMode::kStall) {
    appendf(out,
            "  window        %.2f s; %" PRIu64 " of %d open at its end, %" PRIu64
            " closed by the server\n",
            r.duration_s, r.open_at_once, o.connections, r.all.server_closes);
  } else {
    appendf(out, "  window        %.2f s after %.2f s of warm-up\n", r.duration_s, o.warmup_s);
  }
  appendf(out, "  messages      %" PRIu64 "  %.1f msgs/s  %.2f MB/s\n", r.window.messages,
          perSecond(messages, r.duration_s),
          perSecond(messages * o.message_bytes, r.duration_s) / 1e6);
  appendf(out, "  connects      %" PRIu64 "  %.1f /s\n", r.window.connects,
          perSecond(static_cast<double>(r.window.connects), r.duration_s));
  appendf(out, "  latency (us)  p50 %.1f  p90 %.1f  p99 %.1f  p99.9 %.1f  max %.1f\n",
          micros(r.latency.percentile(50)), micros(r.latency.percentile(90)),
          micros(r.latency.percentile(99)), micros(r.latency.percentile(99.9)),
          micros(r.latency.max()));
  if (o.mode == BenchMode::kRate) {
    // How late reactor-bench itself sent: large values mean the client, not the server, was behind.
    appendf(out, "  send lag (us) p50 %.1f  p99 %.1f  p99.9 %.1f  max %.1f\n",
            micros(r.send_lag.percentile(50)), micros(r.send_lag.percentile(99)),
            micros(r.send_lag.percentile(99.9)), micros(r.send_lag.max()));
  }
  appendf(out,
          "  errors        mismatches %" PRIu64 "  resets %" PRIu64 "  timeouts %" PRIu64
          "  connect_failures %" PRIu64 " (refused %" PRIu64 ", timed out %" PRIu64 ")%s\n",
          r.all.mismatches, r.all.resets, r.all.timeouts, r.all.connect_failures,
          r.all.connect_refused, r.all.connect_timeouts, r.failed() ? "  <- FAILED" : "");
  if (r.all.missed_connects > 0) {
    appendf(out, "  missed        %" PRIu64 " connects due while every slot was busy\n",
            r.all.missed_connects);
  }
  appendf(out, "  client CPU    %.3f s  (%.2f s per million messages)\n", r.client_cpu_s,
          r.window.messages > 0 ? r.client_cpu_s * 1e6 / messages : 0.0);
  const std::string warning = clientLagWarning(r);
  if (!warning.empty()) {
    out += "  " + warning + "\n";
  }
  return out;
}

}  // namespace reactord::client
