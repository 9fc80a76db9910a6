#include "server/stats_report.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "tests/support/prometheus_checker.h"

namespace reactord::server {
namespace {

using reactord::testing::PrometheusChecker;

StatsReport twoWorkers() {
  StatsReport report;
  report.workers.resize(2);
  WorkerCounts& w0 = report.workers[0];
  w0.accepted = 30;
  w0.closed = 10;
  w0.rejected = 2;
  w0.idle_closed = 3;
  w0.conn_errors = 1;
  w0.reads = 5;
  w0.bytes_in = 1 + 100 + 100 + 4096 + 65536 + 7;
  w0.bytes_discarded = 7;
  w0.read_sizes.buckets[common::log2Bucket(1)] = 1;
  w0.read_sizes.buckets[common::log2Bucket(100)] = 2;
  w0.read_sizes.buckets[common::log2Bucket(4096)] = 1;
  w0.read_sizes.buckets[common::log2Bucket(65536)] = 1;
  w0.read_sizes.sum = 1 + 100 + 100 + 4096 + 65536;
  WorkerCounts& w1 = report.workers[1];
  w1.accepted = 5;
  w1.closed = 5;
  w1.accept_errors = 4;
  w1.bytes_out = 99;
  report.admin.accepted = 9;
  report.admin.closed = 7;
  report.admin.rejected = 3;
  report.admin.timed_out = 1;
  report.admin.accept_errors = 6;
  report.workers_source = "cgroup v2 cpu.max \"150000 100000\"";
  report.version = "1.2.3";
  report.draining = true;
  report.start_time_s = 1795300000.25;
  report.uptime_s = 12.5;
  report.takeovers_served = 1;
  report.takeovers_received = 0;
  return report;
}

TEST(StatsReportTest, Log2Buckets) {
  using common::log2Bucket;
  using common::log2BucketBound;
  EXPECT_EQ(log2Bucket(0), 0u);
  EXPECT_EQ(log2Bucket(1), 0u);
  EXPECT_EQ(log2Bucket(2), 1u);
  EXPECT_EQ(log2Bucket(3), 2u);
  EXPECT_EQ(log2Bucket(4), 2u);
  EXPECT_EQ(log2Bucket(5), 3u);
  EXPECT_EQ(log2Bucket(65536), kReadSizeBuckets - 1);
  for (uint64_t value : {1u, 2u, 3u, 64u, 65u, 1000u, 65536u}) {
    const size_t bucket = log2Bucket(value);
    EXPECT_EQ(bucket, common::log2BucketOfPositive(value));
    EXPECT_LE(value, log2BucketBound(bucket));
    EXPECT_TRUE(bucket == 0 || value > log2BucketBound(bucket - 1));
  }
  common::Log2Buckets<4> small;
  small.record(0);
  small.record(1000);  // past the last bound: counted in the last bucket
  EXPECT_EQ(small.snapshot(1000).buckets, (std::array<uint64_t, 4>{1, 0, 0, 1}));
}

TEST(StatsReportTest, PrometheusIsStrictlyValidAndHasTheNumbers) {
  const std::string text = formatPrometheus(twoWorkers());
  PrometheusChecker checker;
  const auto problems = checker.check(text);
  for (const auto& problem : problems) {
    ADD_FAILURE() << problem;
  }
  ASSERT_TRUE(problems.empty()) << text;
  EXPECT_EQ(checker.value("reactord_connections_accepted_total"), 35.0);
  EXPECT_EQ(checker.value("reactord_admin_active_connections"), 2.0);
  EXPECT_EQ(checker.value("reactord_admin_connections_rejected_total"), 3.0);
  EXPECT_EQ(checker.value("reactord_admin_connections_timed_out_total"), 1.0);
  EXPECT_EQ(checker.value("reactord_admin_accept_errors_total"), 6.0);
  EXPECT_EQ(checker.value("reactord_worker_connections_accepted_total", {{"worker", "1"}}), 5.0);
  EXPECT_EQ(checker.value("reactord_active_connections"), 20.0);
  EXPECT_EQ(checker.value("reactord_worker_active_connections", {{"worker", "0"}}), 20.0);
  EXPECT_EQ(checker.value("reactord_connections_rejected_total", {{"reason", "max_connections"}}),
            2.0);
  EXPECT_EQ(
      checker.value("reactord_connections_closed_by_server_total", {{"reason", "idle_timeout"}}),
      3.0);
  EXPECT_EQ(checker.value("reactord_errors_total", {{"kind", "accept"}}), 4.0);
  EXPECT_EQ(
      checker.value("reactord_worker_errors_total", {{"worker", "0"}, {"kind", "connection"}}),
      1.0);
  EXPECT_EQ(checker.value("reactord_sent_bytes_total"), 99.0);
  EXPECT_EQ(checker.value("reactord_draining"), 1.0);
  // The label is the kind of source, not the log line's text.
  EXPECT_EQ(checker.value("reactord_workers", {{"source", "cgroup"}}), 2.0);
  EXPECT_EQ(checker.value("reactord_start_time_seconds"), 1795300000.25);
  EXPECT_EQ(checker.value("reactord_uptime_seconds"), 12.5);
  EXPECT_EQ(checker.value("reactord_takeovers_served_total"), 1.0);
  EXPECT_EQ(checker.value("reactord_takeovers_received_total"), 0.0);
  EXPECT_EQ(checker.value("reactord_build_info", {{"version", "1.2.3"}}), 1.0);
  EXPECT_EQ(checker.type("reactord_read_size_bytes"), "histogram");
  EXPECT_EQ(checker.value("reactord_read_size_bytes_bucket", {{"le", "1"}}), 1.0);
  EXPECT_EQ(checker.value("reactord_read_size_bytes_bucket", {{"le", "128"}}), 3.0);
  EXPECT_EQ(checker.value("reactord_read_size_bytes_bucket", {{"le", "32768"}}), 4.0);
  EXPECT_EQ(checker.value("reactord_read_size_bytes_bucket", {{"le", "65536"}}), 5.0);
  EXPECT_EQ(checker.value("reactord_read_size_bytes_count"), 5.0);
  EXPECT_EQ(checker.value("reactord_read_size_bytes_sum"), 1.0 + 100 + 100 + 4096 + 65536);
  EXPECT_EQ(checker.value("reactord_worker_read_size_bytes_count", {{"worker", "1"}}), 0.0);
  // Every counter of the table is exposed, for the process and per worker.
  for (const CounterInfo& row : workerCounters()) {
    const std::string family = std::string("reactord_") + row.family + "_total";
    const std::string worker_family = std::string("reactord_worker_") + row.family + "_total";
    EXPECT_EQ(checker.type(family), "counter") << family;
    EXPECT_EQ(checker.type(worker_family), "counter") << worker_family;
  }
}

TEST(StatsReportTest, JsonHasTheSameNumbers) {
  const std::string json = formatStatsJson(twoWorkers());
  EXPECT_EQ(json.substr(0, 86),
            "{\"version\":\"1.2.3\",\"workers\":2,\"workers_source\":\"cgroup v2 cpu.max "
            "\\\"150000 100000\\\"\",");
  EXPECT_NE(json.find("\"draining\":true,\"start_time_s\":1795300000.25,\"uptime_s\":12.5,"
                      "\"takeovers_served\":1,\"takeovers_received\":0,"),
            std::string::npos);
  EXPECT_NE(json.find("\"total\":{\"active\":20,\"accepted\":35,\"closed\":15,\"rejected\":2,"),
            std::string::npos)
      << json;
  EXPECT_NE(json.find("\"per_worker\":[{\"worker\":0,\"active\":20,\"accepted\":30,"),
            std::string::npos);
  EXPECT_NE(json.find("{\"worker\":1,\"active\":0,\"accepted\":5,"), std::string::npos);
  EXPECT_NE(
      json.find(
          "\"admin\":{\"active\":2,\"accepted\":9,\"closed\":7,\"rejected\":3,\"timed_out\":1,"
          "\"accept_errors\":6},\"per_worker\":["),
      std::string::npos)
      << json;
  EXPECT_NE(json.find("\"read_sizes\":{\"1\":1,\"2\":0,\"4\":0,"), std::string::npos);
  for (const CounterInfo& row : workerCounters()) {
    EXPECT_NE(json.find(std::string("\"") + row.key + "\":"), std::string::npos) << row.key;
  }
}

StatsReport withMeasures() {
  StatsReport report = twoWorkers();
  WorkerCounts& w0 = report.workers[0];
  // Connections of 0, 3 and 1500 ms, and one past the largest bound (2^26 ms, about 18.6 hours).
  w0.connection_ms.buckets[common::log2Bucket(0)] += 1;
  w0.connection_ms.buckets[common::log2Bucket(3)] += 1;
  w0.connection_ms.buckets[common::log2Bucket(1500)] += 1;
  w0.connection_ms.buckets.back() += 1;
  w0.connection_ms.sum = 0 + 3 + 1500 + (uint64_t{1} << 27);
  w0.loop_lag_us.buckets[common::log2Bucket(700)] = 3;  // (512, 1024] us
  w0.loop_lag_us.sum = 2100;
  report.workers[1].loop_lag_us.buckets[common::log2Bucket(1400000)] = 1;
  report.workers[1].loop_lag_us.sum = 1400000;
  report.gauges.resize(2);
  report.gauges[0].accept_queue = 3;
  report.gauges[0].accept_queue_limit = 128;
  report.gauges[1].accept_queue = 37;
  report.gauges[1].accept_queue_limit = 128;
  report.gauges[1].loop_stalled_ms = 1400;
  report.gauges[1].loop_lag_max_ms = 1400;
  report.process = common::ProcessStats{12, 20000, 4096 * 997, 5341184, 18.01, 1796161994.7};
  report.options.max_connections = 100000;
  report.options.watchdog_miss_ms = 200;
  return report;
}

TEST(StatsReportTest, MeasuresProcessAndLimitsInPrometheus) {
  const std::string text = formatPrometheus(withMeasures());
  PrometheusChecker checker;
  const auto problems = checker.check(text);
  for (const auto& problem : problems) {
    ADD_FAILURE() << problem;
  }
  ASSERT_TRUE(problems.empty()) << text;
  // Gauges: merged by sum or max, per worker, in base units; the interval maxima are not here.
  EXPECT_EQ(checker.value("reactord_accept_queue_length"), 40.0);
  EXPECT_EQ(checker.value("reactord_worker_accept_queue_length", {{"worker", "1"}}), 37.0);
  EXPECT_EQ(checker.value("reactord_accept_queue_limit"), 256.0);
  EXPECT_EQ(checker.value("reactord_loop_stalled_seconds"), 1.4);
  EXPECT_EQ(checker.value("reactord_worker_loop_stalled_seconds", {{"worker", "0"}}), 0.0);
  EXPECT_EQ(checker.type("reactord_loop_lag_max_seconds"), "");
  EXPECT_EQ(text.find("lag_max"), std::string::npos);
  // Histograms in seconds, with the overflow bucket only in +Inf.
  EXPECT_EQ(checker.type("reactord_connection_duration_seconds"), "histogram");
  EXPECT_EQ(checker.value("reactord_connection_duration_seconds_bucket", {{"le", "0.001"}}), 1.0);
  EXPECT_EQ(checker.value("reactord_connection_duration_seconds_bucket", {{"le", "0.004"}}), 2.0);
  EXPECT_EQ(checker.value("reactord_connection_duration_seconds_bucket", {{"le", "2.048"}}), 3.0);
  EXPECT_EQ(checker.value("reactord_connection_duration_seconds_bucket", {{"le", "67108.864"}}),
            3.0);
  EXPECT_EQ(checker.value("reactord_connection_duration_seconds_bucket", {{"le", "+Inf"}}), 4.0);
  EXPECT_EQ(checker.value("reactord_connection_duration_seconds_count"), 4.0);
  EXPECT_EQ(checker.value("reactord_connection_duration_seconds_sum"),
            (1503.0 + (uint64_t{1} << 27)) / 1000);
  EXPECT_EQ(checker.type("reactord_worker_connection_duration_seconds"), "");  // process only
  EXPECT_EQ(checker.value("reactord_worker_loop_lag_seconds_bucket",
                          {{"worker", "0"}, {"le", "0.001024"}}),
            3.0);
  EXPECT_EQ(checker.value("reactord_worker_loop_lag_seconds_sum", {{"worker", "1"}}), 1.4);
  EXPECT_EQ(checker.value("reactord_loop_lag_seconds_count"), 4.0);
  EXPECT_EQ(checker.type("reactord_connection_received_bytes"), "histogram");
  EXPECT_EQ(checker.type("reactord_connection_sent_bytes"), "histogram");
  EXPECT_EQ(checker.type("reactord_loop_misses_total"), "counter");
  EXPECT_EQ(checker.type("reactord_loop_mega_misses_total"), "counter");
  // process_* as the client libraries name them, and the configured limits.
  EXPECT_EQ(checker.value("process_open_fds"), 12.0);
  EXPECT_EQ(checker.value("process_max_fds"), 20000.0);
  EXPECT_EQ(checker.value("process_resident_memory_bytes"), 4096.0 * 997);
  EXPECT_EQ(checker.value("process_virtual_memory_bytes"), 5341184.0);
  EXPECT_EQ(checker.value("process_cpu_seconds_total"), 18.01);
  EXPECT_EQ(checker.value("process_start_time_seconds"), 1796161994.7);
  EXPECT_EQ(checker.value("reactord_config_max_connections"), 100000.0);
  EXPECT_EQ(checker.value("reactord_config_watchdog_miss_seconds"), 0.2);
  EXPECT_EQ(checker.value("reactord_config_backlog"), 4096.0);
}

TEST(StatsReportTest, WithoutMeasuresTheirFamiliesAreLeftOut) {
  PrometheusChecker checker;
  ASSERT_TRUE(checker.check(formatPrometheus(twoWorkers())).empty());
  for (const GaugeInfo& row : workerGauges()) {
    if (row.family != nullptr) {
      EXPECT_EQ(checker.type(std::string("reactord_") + row.family), "") << row.family;
    }
  }
  EXPECT_EQ(checker.type("process_open_fds"), "");
  EXPECT_EQ(checker.type("reactord_config_max_connections"), "gauge");  // always known
  EXPECT_EQ(formatStatsJson(twoWorkers()).find("\"process\""), std::string::npos);
}

TEST(StatsReportTest, JsonSummarisesHistogramsAndHasTheGauges) {
  const std::string json = formatStatsJson(withMeasures());
  // Four connections: the median in the (2, 4] ms bucket, p90 and p99 past the largest bound.
  EXPECT_NE(json.find("\"connection_ms\":{\"count\":4,\"sum\":134219231,\"p50\":4,\"p90\":null,"
                      "\"p99\":null}"),
            std::string::npos)
      << json;
  EXPECT_NE(json.find("\"connection_in_bytes\":{\"count\":0,\"sum\":0,\"p50\":0,\"p90\":0,"
                      "\"p99\":0}"),
            std::string::npos);
  EXPECT_NE(json.find("\"loop_lag_us\":{\"count\":1,\"sum\":1400000,\"p50\":2097152,"),
            std::string::npos);
  EXPECT_NE(json.find("\"loop_stalled_ms\":1400,\"accept_queue\":40,\"accept_queue_limit\":256}"),
            std::string::npos);
  EXPECT_NE(json.find("\"worker\":1,"), std::string::npos);
  EXPECT_NE(json.find("\"accept_queue\":37,"), std::string::npos);
  EXPECT_EQ(json.find("lag_max"), std::string::npos);
  EXPECT_NE(json.find("\"process\":{\"open_fds\":12,\"max_fds\":20000,"), std::string::npos);
}

}  // namespace
}  // namespace reactord::server
