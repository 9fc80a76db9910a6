#include "server/stats_report.h"

#include <algorithm>
#include <span>
#include <string_view>

#include "common/json_writer.h"
#include "common/prometheus_writer.h"

namespace reactord::server {
namespace {

using common::JsonWriter;
using common::PrometheusWriter;
using Type = PrometheusWriter::Type;

constexpr std::string_view kPrefix = "reactord_";
constexpr std::string_view kWorkerPrefix = "reactord_worker_";
constexpr const char* kPerWorker = " Per worker.";

std::string metricName(std::string_view prefix, std::string_view family, std::string_view suffix) {
  std::string name(prefix);
  name += family;
  name += suffix;
  return name;
}

WorkerCounts sum(const std::vector<WorkerCounts>& workers) {
  WorkerCounts total;
  for (const WorkerCounts& worker : workers) {
    total += worker;
  }
  return total;
}

// `value` recorded units as base units, exactly: 1536 with unit 1000 is "1.536".
std::string scaled(uint64_t value, uint64_t unit) {
  std::string text = std::to_string(value / unit);
  uint64_t fraction = value % unit;
  if (fraction == 0) {
    return text;
  }
  std::string digits;
  for (uint64_t place = unit / 10; place > 0; place /= 10) {
    digits += static_cast<char>('0' + fraction / place);
    fraction %= place;
  }
  while (digits.back() == '0') {
    digits.pop_back();
  }
  return text + "." + digits;
}

// The rows of workerCounters() that belong to the family starting at `first`.
std::span<const CounterInfo> familyRows(std::span<const CounterInfo> fields, size_t first) {
  size_t end = first + 1;
  while (end < fields.size() && std::string_view(fields[end].family) == fields[first].family) {
    ++end;
  }
  return fields.subspan(first, end - first);
}

void writeCounters(PrometheusWriter& out, const StatsReport& report, const WorkerCounts& total) {
  const std::span<const CounterInfo> fields = workerCounters();
  for (size_t first = 0; first < fields.size();) {
    const std::span<const CounterInfo> rows = familyRows(fields, first);
    first += rows.size();
    const std::string name = metricName(kPrefix, rows[0].family, "_total");
    out.family(name, Type::kCounter, rows[0].help);
    for (const CounterInfo& row : rows) {
      if (row.label_name == nullptr) {
        out.sample(name, {}, total.*row.member);
      } else {
        out.sample(name, {{row.label_name, row.label_value}}, total.*row.member);
      }
    }
    const std::string worker_name = metricName(kWorkerPrefix, rows[0].family, "_total");
    out.family(worker_name, Type::kCounter, std::string(rows[0].help) + kPerWorker);
    for (size_t w = 0; w < report.workers.size(); ++w) {
      const std::string worker = std::to_string(w);
      for (const CounterInfo& row : rows) {
        const uint64_t value = report.workers[w].*row.member;
        if (row.label_name == nullptr) {
          out.sample(worker_name, {{"worker", worker}}, value);
        } else {
          out.sample(worker_name, {{"worker", worker}, {row.label_name, row.label_value}}, value);
        }
      }
    }
  }
}

// One histogram series: cumulative buckets (the overflow bucket only as +Inf), _sum and _count,
// with a "worker" label when `worker` is not empty.
void writeHistogram(PrometheusWriter& out, const std::string& name, const HistogramInfo& info,
                    const HistogramView& counts, std::string_view worker) {
  const std::string bucket = name + "_bucket";
  const size_t finite = counts.buckets.size() - (info.overflow_bucket ? 1 : 0);
  uint64_t cumulative = 0;
  for (size_t i = 0; i < finite; ++i) {
    cumulative += counts.buckets[i];
    const std::string le = scaled(common::log2BucketBound(i), info.unit);
    if (worker.empty()) {
      out.sample(bucket, {{"le", le}}, cumulative);
    } else {
      out.sample(bucket, {{"worker", worker}, {"le", le}}, cumulative);
    }
  }
  for (size_t i = finite; i < counts.buckets.size(); ++i) {
    cumulative += counts.buckets[i];
  }
  if (worker.empty()) {
    out.sample(bucket, {{"le", "+Inf"}}, cumulative);
  } else {
    out.sample(bucket, {{"worker", worker}, {"le", "+Inf"}}, cumulative);
  }
  const double sum = static_cast<double>(counts.sum) / static_cast<double>(info.unit);
  if (worker.empty()) {
    out.sample(name + "_sum", {}, sum);
    out.sample(name + "_count", {}, cumulative);
  } else {
    out.sample(name + "_sum", {{"worker", worker}}, sum);
    out.sample(name + "_count", {{"worker", worker}}, cumulative);
  }
}

void writeHistograms(PrometheusWriter& out, const StatsReport& report, const WorkerCounts& total) {
  for (const HistogramInfo& info : workerHistograms()) {
    const std::string name = metricName(kPrefix, info.family, "");
    out.family(name, Type::kHistogram, info.help);
    writeHistogram(out, name, info, info.view(total), "");
    if (!info.per_worker) {
      continue;
    }
    const std::string worker_name = metricName(kWorkerPrefix, info.family, "");
    out.family(worker_name, Type::kHistogram, std::string(info.help) + kPerWorker);
    for (size_t w = 0; w < report.workers.size(); ++w) {
      writeHistogram(out, worker_name, info, info.view(report.workers[w]), std::to_string(w));
    }
  }
}

// Each gauge of the table that has a family, for the process (merged) and per worker.
void writeWorkerGauges(PrometheusWriter& out, const StatsReport& report) {
  if (report.gauges.empty()) {
    return;
  }
  const WorkerGauges merged = mergeGauges(report.gauges);
  for (const GaugeInfo& row : workerGauges()) {
    if (row.family == nullptr) {
      continue;
    }
    const double unit = static_cast<double>(row.unit);
    const std::string name = metricName(kPrefix, row.family, "");
    const char* merge = row.merge == GaugeMerge::kSum ? " Sum over the workers."
                                                      : " Largest of "
                                                        "the workers.";
    out.family(name, Type::kGauge, std::string(row.help) + merge);
    out.sample(name, {}, static_cast<double>(merged.*row.member) / unit);
    const std::string worker_name = metricName(kWorkerPrefix, row.family, "");
    out.family(worker_name, Type::kGauge, std::string(row.help) + kPerWorker);
    for (size_t w = 0; w < report.gauges.size(); ++w) {
      out.sample(worker_name, {{"worker", std::to_string(w)}},
                 static_cast<double>(report.gauges[w].*row.member) / unit);
    }
  }
}

void writeProcess(PrometheusWriter& out, const common::ProcessStats& process) {
  out.family("process_open_fds", Type::kGauge, "Number of open file descriptors.");
  out.sample("process_open_fds", {}, process.open_fds);
  out.family("process_max_fds", Type::kGauge,
             "Maximum number of open file descriptors (the soft RLIMIT_NOFILE).");
  out.sample("process_max_fds", {}, process.max_fds);
  out.family("process_resident_memory_bytes", Type::kGauge, "Resident memory size in bytes.");
  out.sample("process_resident_memory_bytes", {}, process.resident_bytes);
  out.family("process_virtual_memory_bytes", Type::kGauge, "Virtual memory size in bytes.");
  out.sample("process_virtual_memory_bytes", {}, process.virtual_bytes);
  out.family("process_cpu_seconds_total", Type::kCounter,
             "Total user and system CPU time spent in seconds.");
  out.sample("process_cpu_seconds_total", {}, process.cpu_seconds);
  out.family("process_start_time_seconds", Type::kGauge,
             "Start time of the process since unix epoch in seconds.");
  out.sample("process_start_time_seconds", {}, process.start_time_s);
}

// How the worker count was chosen, as a label: one of a few words, never the free text of the
// log line (a cgroup's path differs per pod, and a label must not).
std::string_view workersSourceKind(std::string_view source) {
  if (source.starts_with("--workers")) {
    return "--workers";
  }
  return source.find("cgroup") != std::string_view::npos ? "cgroup" : "affinity";
}

// The configured limits, each a gauge named after its flag, in base units.
void writeLimits(PrometheusWriter& out, const ServerOptions& options) {
  const struct {
    const char* name;
    const char* help;
    double value;
  } limits[] = {
      {"max_connections", "--max_connections: 0 = none but the open-file limit (process_max_fds).",
       static_cast<double>(options.max_connections)},
      {"max_connections_per_ip", "--max_connections_per_ip: 0 = none.",
       static_cast<double>(options.max_connections_per_ip)},
      {"max_pending_bytes",
       "--max_pending_bytes: unsent output per connection before reading "
       "stops.",
       static_cast<double>(options.max_pending_bytes)},
      {"max_message_bytes", "--max_message_bytes: the longest ack message.",
       static_cast<double>(options.max_message_bytes)},
      {"max_buffered_bytes",
       "--max_buffered_bytes as applied (0 there derives half of reactord_memory_limit_bytes): "
       "what clients may make the server hold in all.",
       static_cast<double>(options.max_buffered_bytes)},
      {"backlog",
       "--backlog: the accept queue asked for per listener (the kernel caps it at "
       "net.core.somaxconn; reactord_accept_queue_limit is what it applies).",
       static_cast<double>(options.backlog)},
      {"idle_timeout_seconds", "--idle_timeout_s: 0 = never.",
       static_cast<double>(options.idle_timeout_s)},
      {"write_timeout_seconds", "--write_timeout_s: 0 = never.",
       static_cast<double>(options.write_timeout_s)},
      {"message_timeout_seconds", "--message_timeout_s: 0 = never.",
       static_cast<double>(options.message_timeout_s)},
      {"drain_timeout_seconds", "--drain_timeout_s.", static_cast<double>(options.drain_timeout_s)},
      {"watchdog_miss_seconds", "--watchdog_miss_ms, in seconds.",
       options.watchdog_miss_ms / 1000.0},
      {"watchdog_megamiss_seconds", "--watchdog_megamiss_ms, in seconds.",
       options.watchdog_megamiss_ms / 1000.0},
      {"watchdog_kill_seconds", "--watchdog_kill_s: 0 = never.",
       static_cast<double>(options.watchdog_kill_s)},
  };
  for (const auto& limit : limits) {
    const std::string name = metricName("reactord_config_", limit.name, "");
    out.family(name, Type::kGauge, limit.help);
    out.sample(name, {}, limit.value);
  }
}

// One gauge for the process (the sum over workers, or the highest level) and one per worker.
void writeMemoryGauge(PrometheusWriter& out, const StatsReport& report, const char* name,
                      const char* help, uint64_t MemoryGauges::*member, bool highest) {
  uint64_t process = 0;
  for (const MemoryGauges& worker : report.memory) {
    process = highest ? std::max(process, worker.*member) : process + worker.*member;
  }
  const std::string total_name = metricName(kPrefix, name, "");
  out.family(total_name, Type::kGauge, help);
  out.sample(total_name, {}, process);
  const std::string worker_name = metricName(kWorkerPrefix, name, "");
  out.family(worker_name, Type::kGauge, std::string(help) + kPerWorker);
  for (size_t w = 0; w < report.memory.size(); ++w) {
    out.sample(worker_name, {{"worker", std::to_string(w)}}, report.memory[w].*member);
  }
}

void writeMemoryGauges(PrometheusWriter& out, const StatsReport& report) {
  if (report.memory.empty()) {
    return;
  }
  out.family("reactord_memory_limit_bytes", Type::kGauge,
             "The memory the process may use (cgroup limit or the machine's); source says which.");
  out.sample("reactord_memory_limit_bytes", {{"source", report.memory_limit_source}},
             report.memory_limit_bytes);
  writeMemoryGauge(out, report, "buffer_budget_bytes",
                   "--max_buffered_bytes: what clients may make the server hold (a share per "
                   "worker).",
                   &MemoryGauges::share, false);
  writeMemoryGauge(out, report, "buffered_bytes",
                   "Bytes held for connections now: buffers, connection state, kernel estimate.",
                   &MemoryGauges::held, false);
  writeMemoryGauge(out, report, "buffered_peak_bytes",
                   "The most bytes held for connections at once since the start (the process's "
                   "value is the sum of the workers' peaks, an upper bound).",
                   &MemoryGauges::peak, false);
  writeMemoryGauge(out, report, "overload_state",
                   "Overload level: 0 normal, 1 pause_reading, 2 stop_accepting, 3 closing (the "
                   "process's value is the highest of the workers').",
                   &MemoryGauges::overload, true);
}

void writeGauges(PrometheusWriter& out, const StatsReport& report, const WorkerCounts& total) {
  out.family("reactord_active_connections", Type::kGauge, "Open connections now.");
  out.sample("reactord_active_connections", {}, total.active());
  out.family("reactord_worker_active_connections", Type::kGauge,
             std::string("Open connections now.") + kPerWorker);
  for (size_t w = 0; w < report.workers.size(); ++w) {
    out.sample("reactord_worker_active_connections", {{"worker", std::to_string(w)}},
               report.workers[w].active());
  }
  writeWorkerGauges(out, report);
  out.family("reactord_draining", Type::kGauge,
             "1 from the moment shutdown begins (no new connections accepted), else 0.");
  out.sample("reactord_draining", {}, uint64_t{report.draining ? 1u : 0u});
  writeMemoryGauges(out, report);
  out.family("reactord_takeovers_served_total", Type::kCounter,
             "Listening-socket takeovers this process served: its listeners went to a newer "
             "process (0 or 1).");
  out.sample("reactord_takeovers_served_total", {}, report.takeovers_served);
  out.family("reactord_takeovers_received_total", Type::kCounter,
             "Listening-socket takeovers this process made: it took an older process's "
             "listeners (0 or 1).");
  out.sample("reactord_takeovers_received_total", {}, report.takeovers_received);
  out.family("reactord_workers", Type::kGauge,
             "Worker threads; source tells how the count was chosen: --workers, affinity or "
             "cgroup (the details, such as the cgroup's path and quota, are in the start-up log).");
  out.sample("reactord_workers", {{"source", workersSourceKind(report.workers_source)}},
             static_cast<uint64_t>(report.workers.size()));
  out.family("reactord_start_time_seconds", Type::kGauge,
             "Start of the process, seconds since the Unix epoch.");
  out.sample("reactord_start_time_seconds", {}, report.start_time_s);
  out.family("reactord_uptime_seconds", Type::kGauge, "Seconds since the process started.");
  out.sample("reactord_uptime_seconds", {}, report.uptime_s);
  out.family("reactord_build_info", Type::kGauge, "Always 1; version is the reactord version.");
  out.sample("reactord_build_info", {{"version", report.version}}, uint64_t{1});
  writeLimits(out, report.options);
  if (report.process) {
    writeProcess(out, *report.process);
  }
}

void writeListenCounters(PrometheusWriter& out, const common::ListenCounters& listen) {
  out.family("reactord_listen_overflows_total", Type::kCounter,
             "The kernel's ListenOverflows for the whole network namespace (not this process "
             "alone), since it was made: handshakes dropped because an accept queue was full.");
  out.sample("reactord_listen_overflows_total", {}, listen.overflows);
  out.family("reactord_listen_drops_total", Type::kCounter,
             "The kernel's ListenDrops for the whole network namespace, since it was made: "
             "connections dropped on their way into any listener (overflows included).");
  out.sample("reactord_listen_drops_total", {}, listen.drops);
}

// The upper bound of the bucket holding the q-quantile, in recorded units; nullopt past the
// largest bound (or with no values).
std::optional<uint64_t> quantileBound(const HistogramInfo& info, const HistogramView& counts,
                                      uint64_t count, double q) {
  const double rank = q * static_cast<double>(count);
  uint64_t cumulative = 0;
  for (size_t i = 0; i < counts.buckets.size(); ++i) {
    cumulative += counts.buckets[i];
    if (cumulative > 0 && static_cast<double>(cumulative) >= rank) {
      if (info.overflow_bucket && i + 1 == counts.buckets.size()) {
        return std::nullopt;
      }
      return common::log2BucketBound(i);
    }
  }
  return std::nullopt;
}

void writeJsonHistogram(JsonWriter& out, const HistogramInfo& info, const HistogramView& counts) {
  uint64_t count = 0;
  for (uint64_t bucket : counts.buckets) {
    count += bucket;
  }
  out.key(info.key).beginObject();
  out.key("count").value(count);
  out.key("sum").value(counts.sum);
  for (const auto& [key, q] : {std::pair{"p50", 0.5}, {"p90", 0.9}, {"p99", 0.99}}) {
    const std::optional<uint64_t> bound =
        count > 0 ? quantileBound(info, counts, count, q) : std::optional<uint64_t>(0);
    out.key(key);
    if (bound) {
      out.value(*bound);
    } else {
      out.null();
    }
  }
  out.endObject();
}

void writeJsonMemory(JsonWriter& out, const MemoryGauges& memory) {
  out.key("buffer_share").value(memory.share);
  out.key("buffered_bytes").value(memory.held);
  out.key("buffered_peak_bytes").value(memory.peak);
  out.key("overload_state").value(memory.overload);
}

void writeAdmin(PrometheusWriter& out, const AdminCounts& admin) {
  out.family("reactord_admin_active_connections", Type::kGauge,
             "Open connections of the admin endpoint now (at most --admin_max_connections).");
  out.sample("reactord_admin_active_connections", {}, admin.active());
  out.family("reactord_admin_connections_rejected_total", Type::kCounter,
             "Admin connections answered 503 and closed at once: --admin_max_connections were "
             "open.");
  out.sample("reactord_admin_connections_rejected_total", {}, admin.rejected);
  out.family("reactord_admin_connections_timed_out_total", Type::kCounter,
             "Admin connections closed at --admin_timeout_s before their response was sent.");
  out.sample("reactord_admin_connections_timed_out_total", {}, admin.timed_out);
  out.family("reactord_admin_accept_errors_total", Type::kCounter,
             "Failed accept() calls on the admin port (EMFILE and the like).");
  out.sample("reactord_admin_accept_errors_total", {}, admin.accept_errors);
}

void writeJsonCounters(JsonWriter& out, const WorkerCounts& stats) {
  out.key("active").value(stats.active());
  for (const CounterInfo& row : workerCounters()) {
    out.key(row.key).value(stats.*row.member);
  }
  out.key("read_sizes").beginObject();
  for (size_t i = 0; i < kReadSizeBuckets; ++i) {
    out.key(std::to_string(common::log2BucketBound(i))).value(stats.read_sizes.buckets[i]);
  }
  out.endObject();
  for (const HistogramInfo& info : workerHistograms().subspan(1)) {
    writeJsonHistogram(out, info, info.view(stats));
  }
}

void writeJsonGauges(JsonWriter& out, const WorkerGauges& gauges) {
  for (const GaugeInfo& row : workerGauges()) {
    if (row.family != nullptr) {  // the interval maxima belong to the stats line
      out.key(row.key).value(gauges.*row.member);
    }
  }
}

}  // namespace

std::string formatPrometheus(const StatsReport& report) {
  const WorkerCounts total = sum(report.workers);
  PrometheusWriter out;
  writeGauges(out, report, total);
  writeCounters(out, report, total);
  if (report.listen) {
    writeListenCounters(out, *report.listen);
  }
  writeHistograms(out, report, total);
  writeAdmin(out, report.admin);
  return out.take();
}

std::string formatStatsJson(const StatsReport& report) {
  JsonWriter out;
  out.beginObject();
  out.key("version").value(report.version);
  out.key("workers").value(static_cast<uint64_t>(report.workers.size()));
  out.key("workers_source").value(report.workers_source);
  out.key("draining").value(report.draining);
  out.key("start_time_s").value(report.start_time_s);
  out.key("uptime_s").value(report.uptime_s);
  out.key("takeovers_served").value(report.takeovers_served);
  out.key("takeovers_received").value(report.takeovers_received);
  if (!report.memory.empty()) {
    MemoryGauges process;
    for (const MemoryGauges& worker : report.memory) {
      process.share += worker.share;
      process.held += worker.held;
      process.peak += worker.peak;
      process.overload = std::max(process.overload, worker.overload);
    }
    out.key("memory_limit_bytes").value(report.memory_limit_bytes);
    out.key("memory_limit_source").value(report.memory_limit_source);
    out.key("buffer_budget").value(process.share);
    out.key("buffered_bytes").value(process.held);
    out.key("overload_state").value(process.overload);
  }
  if (report.process) {
    const common::ProcessStats& process = *report.process;
    out.key("process").beginObject();
    out.key("open_fds").value(process.open_fds);
    out.key("max_fds").value(process.max_fds);
    out.key("resident_bytes").value(process.resident_bytes);
    out.key("virtual_bytes").value(process.virtual_bytes);
    out.key("cpu_seconds").value(process.cpu_seconds);
    out.key("start_time_s").value(process.start_time_s);
    out.endObject();
  }
  if (report.listen) {
    out.key("listen_overflows").value(report.listen->overflows);
    out.key("listen_drops").value(report.listen->drops);
  }
  out.key("total").beginObject();
  writeJsonCounters(out, sum(report.workers));
  if (!report.gauges.empty()) {
    writeJsonGauges(out, mergeGauges(report.gauges));
  }
  out.endObject();
  out.key("admin").beginObject();
  out.key("active").value(report.admin.active());
#define REACTORD_ADMIN_JSON(name, what) out.key(#name).value(report.admin.name);
  REACTORD_ADMIN_COUNTERS(REACTORD_ADMIN_JSON)
#undef REACTORD_ADMIN_JSON
  out.endObject();
  out.key("per_worker").beginArray();
  for (size_t w = 0; w < report.workers.size(); ++w) {
    out.beginObject().key("worker").value(static_cast<uint64_t>(w));
    writeJsonCounters(out, report.workers[w]);
    if (w < report.memory.size()) {
      writeJsonMemory(out, report.memory[w]);
    }
    if (w < report.gauges.size()) {
      writeJsonGauges(out, report.gauges[w]);
    }
    out.endObject();
  }
  out.endArray();
  out.endObject();
  return out.take();
}

}  // namespace reactord::server
