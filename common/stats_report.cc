#include "common/stats_report.h"

#include <span>
#include <string_view>

#include "common/json_writer.h"
#include "common/prometheus_writer.h"
#include "common/stats_fields.h"

namespace reactord::common {
namespace {

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

StatsSnapshot sum(const std::vector<StatsSnapshot>& workers) {
  StatsSnapshot total;
  for (const StatsSnapshot& worker : workers) {
    total += worker;
  }
  return total;
}

// The rows of statsFields() that belong to the family starting at `first`.
std::span<const StatsField> familyRows(std::span<const StatsField> fields, size_t first) {
  size_t end = first + 1;
  while (end < fields.size() && std::string_view(fields[end].family) == fields[first].family) {
    ++end;
  }
  return fields.subspan(first, end - first);
}

void writeCounters(PrometheusWriter& out, const StatsReport& report, const StatsSnapshot& total) {
  const std::span<const StatsField> fields = statsFields();
  for (size_t first = 0; first < fields.size();) {
    const std::span<const StatsField> rows = familyRows(fields, first);
    first += rows.size();
    const std::string name = metricName(kPrefix, rows[0].family, "_total");
    out.family(name, Type::kCounter, rows[0].help);
    for (const StatsField& row : rows) {
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
      for (const StatsField& row : rows) {
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

// One histogram series: cumulative buckets, +Inf, _sum (bytes served by reads) and _count.
void writeReadSizes(PrometheusWriter& out, std::string_view name, const StatsSnapshot& stats,
                    std::string_view worker) {
  const std::string bucket = std::string(name) + "_bucket";
  uint64_t cumulative = 0;
  for (size_t i = 0; i <= kReadSizeBuckets; ++i) {
    std::string le = "+Inf";
    if (i < kReadSizeBuckets) {
      cumulative += stats.read_sizes[i];
      le = std::to_string(readSizeBucketBound(i));
    }
    if (worker.empty()) {
      out.sample(bucket, {{"le", le}}, cumulative);
    } else {
      out.sample(bucket, {{"worker", worker}, {"le", le}}, cumulative);
    }
  }
  const uint64_t bytes = stats.bytes_in - stats.bytes_discarded;
  if (worker.empty()) {
    out.sample(std::string(name) + "_sum", {}, bytes);
    out.sample(std::string(name) + "_count", {}, cumulative);
  } else {
    out.sample(std::string(name) + "_sum", {{"worker", worker}}, bytes);
    out.sample(std::string(name) + "_count", {{"worker", worker}}, cumulative);
  }
}

void writeHistograms(PrometheusWriter& out, const StatsReport& report, const StatsSnapshot& total) {
  constexpr const char* kHelp =
      "Bytes returned by each read() of client data, in powers-of-two buckets.";
  out.family("reactord_read_size_bytes", Type::kHistogram, kHelp);
  writeReadSizes(out, "reactord_read_size_bytes", total, "");
  out.family("reactord_worker_read_size_bytes", Type::kHistogram, std::string(kHelp) + kPerWorker);
  for (size_t w = 0; w < report.workers.size(); ++w) {
    writeReadSizes(out, "reactord_worker_read_size_bytes", report.workers[w], std::to_string(w));
  }
}

void writeGauges(PrometheusWriter& out, const StatsReport& report, const StatsSnapshot& total) {
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

void writeAdmin(PrometheusWriter& out, const AdminStatsSnapshot& admin) {
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

void writeJsonCounters(JsonWriter& out, const StatsSnapshot& stats) {
  out.key("active").value(stats.active());
  for (const StatsField& row : statsFields()) {
    out.key(row.key).value(stats.*row.member);
  }
  out.key("read_sizes").beginObject();
  for (size_t i = 0; i < kReadSizeBuckets; ++i) {
    out.key(std::to_string(readSizeBucketBound(i))).value(stats.read_sizes[i]);
  }
  out.endObject();
}

}  // namespace

std::string formatPrometheus(const StatsReport& report) {
  const StatsSnapshot total = sum(report.workers);
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
  out.key("total").beginObject();
  writeJsonCounters(out, sum(report.workers));
  out.endObject();
  out.key("admin").beginObject();
  out.key("active").value(report.admin.active());
  out.key("accepted").value(report.admin.accepted);
  out.key("rejected").value(report.admin.rejected);
  out.key("timed_out").value(report.admin.timed_out);
  out.key("accept_errors").value(report.admin.accept_errors);
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

}  // namespace reactord::common
