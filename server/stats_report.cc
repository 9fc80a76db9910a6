#include "server/stats_report.h"

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

// One histogram series: cumulative buckets, +Inf, _sum and _count, with a "worker" label when
// `worker` is not empty.
template <size_t N>
void writeHistogram(PrometheusWriter& out, std::string_view name,
                    const common::Log2Counts<N>& counts, std::string_view worker) {
  const std::string bucket = std::string(name) + "_bucket";
  uint64_t cumulative = 0;
  for (size_t i = 0; i <= N; ++i) {
    std::string le = "+Inf";
    if (i < N) {
      cumulative += counts.buckets[i];
      le = std::to_string(common::log2BucketBound(i));
    }
    if (worker.empty()) {
      out.sample(bucket, {{"le", le}}, cumulative);
    } else {
      out.sample(bucket, {{"worker", worker}, {"le", le}}, cumulative);
    }
  }
  if (worker.empty()) {
    out.sample(std::string(name) + "_sum", {}, counts.sum);
    out.sample(std::string(name) + "_count", {}, cumulative);
  } else {
    out.sample(std::string(name) + "_sum", {{"worker", worker}}, counts.sum);
    out.sample(std::string(name) + "_count", {{"worker", worker}}, cumulative);
  }
}

// A histogram family for the process and one for the workers ("reactord_worker_..."), from the
// member `histogram` of every snapshot.
template <size_t N>
void writeHistogramFamilies(PrometheusWriter& out, const StatsReport& report,
                            const WorkerCounts& total, std::string_view family,
                            common::Log2Counts<N> WorkerCounts::*histogram, std::string_view help) {
  const std::string name = metricName(kPrefix, family, "");
  out.family(name, Type::kHistogram, help);
  writeHistogram(out, name, total.*histogram, "");
  const std::string worker_name = metricName(kWorkerPrefix, family, "");
  out.family(worker_name, Type::kHistogram, std::string(help) + kPerWorker);
  for (size_t w = 0; w < report.workers.size(); ++w) {
    writeHistogram(out, worker_name, report.workers[w].*histogram, std::to_string(w));
  }
}

void writeHistograms(PrometheusWriter& out, const StatsReport& report, const WorkerCounts& total) {
  writeHistogramFamilies(out, report, total, "read_size_bytes", &WorkerCounts::read_sizes,
                         "Bytes returned by each read() of client data, in powers-of-two buckets.");
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
  out.family("reactord_draining", Type::kGauge,
             "1 from the moment shutdown begins (no new connections accepted), else 0.");
  out.sample("reactord_draining", {}, uint64_t{report.draining ? 1u : 0u});
  out.family("reactord_takeovers_served_total", Type::kCounter,
             "Listening-socket takeovers this process served: its listeners went to a newer "
             "process (0 or 1).");
  out.sample("reactord_takeovers_served_total", {}, report.takeovers_served);
  out.family("reactord_takeovers_received_total", Type::kCounter,
             "Listening-socket takeovers this process made: it took an older process's "
             "listeners (0 or 1).");
  out.sample("reactord_takeovers_received_total", {}, report.takeovers_received);
  out.family("reactord_workers", Type::kGauge,
             "Worker threads; source tells how the count was chosen.");
  out.sample("reactord_workers", {{"source", report.workers_source}},
             static_cast<uint64_t>(report.workers.size()));
  out.family("reactord_start_time_seconds", Type::kGauge,
             "Start of the process, seconds since the Unix epoch.");
  out.sample("reactord_start_time_seconds", {}, report.start_time_s);
  out.family("reactord_uptime_seconds", Type::kGauge, "Seconds since the process started.");
  out.sample("reactord_uptime_seconds", {}, report.uptime_s);
  out.family("reactord_build_info", Type::kGauge, "Always 1; version is the reactord version.");
  out.sample("reactord_build_info", {{"version", report.version}}, uint64_t{1});
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
}

}  // namespace

std::string formatPrometheus(const StatsReport& report) {
  const WorkerCounts total = sum(report.workers);
  PrometheusWriter out;
  writeGauges(out, report, total);
  writeCounters(out, report, total);
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
  out.key("total").beginObject();
  writeJsonCounters(out, sum(report.workers));
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
    out.endObject();
  }
  out.endArray();
  out.endObject();
  return out.take();
}

}  // namespace reactord::server
