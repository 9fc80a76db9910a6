#include "server/stats_line.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "server/admin_stats.h"

namespace reactord::server {
namespace {

TEST(WorkerCountsTest, SumAndDifferenceCoverEveryField) {
  WorkerCounts a;
  for (const CounterInfo& row : workerCounters()) {
    a.*row.member = 7;
  }
  a.read_sizes.buckets[3] = 2;
  a.read_sizes.sum = 9;
  a.loop_lag_us.buckets[25] = 1;
  a.connection_ms.sum = 5;
  a.connection_in_bytes.buckets[0] = 3;
  a.connection_out_bytes.buckets[41] = 4;
  WorkerCounts b = a;
  b += a;
  for (const CounterInfo& row : workerCounters()) {
    EXPECT_EQ(b.*row.member, 14u) << row.key;
  }
  EXPECT_EQ(b.read_sizes.buckets[3], 4u);
  EXPECT_EQ(b.read_sizes.sum, 18u);
  EXPECT_EQ(b.loop_lag_us.buckets[25], 2u);
  EXPECT_EQ(b.connection_ms.sum, 10u);
  EXPECT_EQ(b.connection_in_bytes.buckets[0], 6u);
  EXPECT_EQ(b.connection_out_bytes.buckets[41], 8u);
  EXPECT_EQ(b - a, a);
}

TEST(WorkerCountsTest, TheTableCoversEveryCounterOnce) {
  // Every uint64_t of WorkerCounts is a row of the table or part of a histogram of the table of
  // histograms.
  size_t histogram_words = 0;
  for (const HistogramInfo& histogram : workerHistograms()) {
    histogram_words += histogram.view(WorkerCounts{}).buckets.size() + 1;
  }
  EXPECT_EQ(sizeof(WorkerCounts), (workerCounters().size() + histogram_words) * sizeof(uint64_t));
  std::set<std::string> keys;
  for (const CounterInfo& row : workerCounters()) {
    EXPECT_TRUE(keys.insert(row.key).second) << row.key;
    WorkerCounts only_this;
    only_this.*row.member = 1;
    int rows_seeing_it = 0;
    for (const CounterInfo& other : workerCounters()) {
      rows_seeing_it += only_this.*other.member == 1 ? 1 : 0;
    }
    EXPECT_EQ(rows_seeing_it, 1) << row.key << " shares its member with another row";
  }
}

TEST(WorkerCountsTest, SnapshotOfTheLiveCounters) {
  WorkerStats stats;
  stats.accepted.add(3);
  stats.closed.add();
  stats.messages.add(42);
  stats.countRead(1);
  stats.countRead(100);
  stats.countRead(65536);
  const WorkerCounts s = stats.snapshot();
  EXPECT_EQ(s.accepted, 3u);
  EXPECT_EQ(s.closed, 1u);
  EXPECT_EQ(s.messages, 42u);
  EXPECT_EQ(s.active(), 2u);
  EXPECT_EQ(s.reads, 3u);
  EXPECT_EQ(s.bytes_in, 65637u);
  EXPECT_EQ(s.read_sizes.sum, 65637u);
  EXPECT_EQ(s.read_sizes.buckets[0], 1u);
  EXPECT_EQ(s.read_sizes.buckets[7], 1u);  // 100 in (64, 128]
  EXPECT_EQ(s.read_sizes.buckets[kReadSizeBuckets - 1], 1u);
}

TEST(WorkerCountsTest, ActiveNeverUnderflows) {
  WorkerCounts s;
  s.closed = 1;
  EXPECT_EQ(s.active(), 0u);
}

std::vector<WorkerCounts> nowOfTwo() {
  WorkerCounts w0;
  w0.accepted = 30;
  w0.closed = 10;
  w0.read_sizes.buckets[5] = 500;
  w0.reads = 500;
  w0.bytes_in = 4000;
  WorkerCounts w1;
  w1.accepted = 10;
  w1.closed = 10;
  w1.reads = 100;
  return {w0, w1};
}

TEST(StatsLineTest, TextMergesWorkersAndShowsTheSpread) {
  WorkerCounts w0_before;
  w0_before.accepted = 10;
  w0_before.reads = 100;
  const std::string line =
      makeStatsLine("stats", nowOfTwo(), {w0_before, WorkerCounts{}}, 2.0).text();
  EXPECT_EQ(line.rfind("stats interval_s=2.0 workers=2 active=20 accepted=30 closed=20 ", 0), 0u)
      << line;
  EXPECT_NE(line.find(" conns_per_s=15.0 reads_per_s=250.0 "), std::string::npos) << line;
  EXPECT_NE(line.find(" in_bytes_per_s=2000 "), std::string::npos) << line;
  EXPECT_NE(line.find(" worker_active=20,0 worker_accepted=20,10 worker_loop_miss=0,0"),
            std::string::npos)
      << line;
  for (const CounterInfo& row : workerCounters()) {
    EXPECT_NE(line.find(std::string(" ") + row.key + "="), std::string::npos) << row.key;
  }
}

TEST(StatsLineTest, GaugesAreMergedBySumOrMaxAndListedPerWorker) {
  WorkerGauges w0;
  w0.loop_lag_max_ms = 1400;
  w0.loop_stalled_ms = 1400;
  w0.accept_queue = 37;
  w0.accept_queue_max = 40;
  w0.accept_queue_limit = 128;
  WorkerGauges w1;
  w1.loop_lag_max_ms = 3;
  w1.accept_queue = 2;
  w1.accept_queue_max = 50;
  w1.accept_queue_limit = 128;
  IntervalMeasures measured;
  measured.gauges = {w0, w1};
  measured.listen = common::ListenCounters{5, 7};
  const std::string line = makeStatsLine("stats", nowOfTwo(), {}, 1.0, measured).text();
  EXPECT_NE(line.find(" loop_stalled_ms=1400 worker_loop_stalled_ms=1400,0 "), std::string::npos)
      << line;
  EXPECT_NE(line.find(" loop_lag_max_ms=1400 worker_loop_lag_max_ms=1400,3 "), std::string::npos);
  EXPECT_NE(line.find(" accept_queue=39 worker_accept_queue=37,2 "), std::string::npos);
  EXPECT_NE(line.find(" accept_queue_max=50 worker_accept_queue_max=40,50 "), std::string::npos);
  EXPECT_NE(line.find(" accept_queue_limit=256 worker_accept_queue_limit=128,128 "),
            std::string::npos);
  EXPECT_NE(line.find(" listen_overflows=5 listen_drops=7"), std::string::npos);
  for (const GaugeInfo& row : workerGauges()) {
    EXPECT_NE(line.find(std::string(" ") + row.key + "="), std::string::npos) << row.key;
  }
}

TEST(StatsLineTest, WhatWasNotMeasuredIsLeftOut) {
  const std::string line = makeStatsLine("stats", nowOfTwo(), {}, 1.0).text();
  for (const GaugeInfo& row : workerGauges()) {
    EXPECT_EQ(line.find(std::string(" ") + row.key + "="), std::string::npos) << row.key;
  }
  EXPECT_EQ(line.find("listen_overflows"), std::string::npos);
}

TEST(StatsLineTest, JsonHasTheSameKeysAndNumbers) {
  StatsLine line("stats");
  line.add("interval_s", 2.0, 1);
  line.add("workers", uint64_t{2});
  line.add("in_bytes_per_s", 1999.6, 0);
  line.add("worker_active", std::vector<uint64_t>{5, 2});
  line.add("worker_accepted", std::vector<uint64_t>{3});
  EXPECT_EQ(line.text(),
            "stats interval_s=2.0 workers=2 in_bytes_per_s=2000 worker_active=5,2 "
            "worker_accepted=3");
  EXPECT_EQ(line.json(), R"({"event":"stats","interval_s":2.0,"workers":2,"in_bytes_per_s":2000,)"
                         R"("worker_active":[5,2],"worker_accepted":[3]})");
}

TEST(StatsLineTest, EveryKeyOfTheTextIsInTheJson) {
  const StatsLine line = makeStatsLine("final", nowOfTwo(), {}, 1.0);
  const std::string text = line.text();
  const std::string json = line.json();
  EXPECT_EQ(json.rfind(R"({"event":"final",)", 0), 0u) << json;
  size_t keys = 0;
  for (size_t at = text.find(' '); at != std::string::npos; at = text.find(' ', at + 1)) {
    const std::string key = text.substr(at + 1, text.find('=', at) - at - 1);
    EXPECT_NE(json.find("\"" + key + "\":"), std::string::npos) << key;
    ++keys;
  }
  EXPECT_GT(keys, workerCounters().size());
}

TEST(StatsLineTest, MemoryKeysSumTheSharesAndTakeTheHighestLevel) {
  IntervalMeasures measured;
  measured.memory = {{.share = 1000, .held = 300, .peak = 900, .overload = 0},
                     {.share = 1000, .held = 800, .peak = 950, .overload = 2}};
  const StatsLine line = makeStatsLine("stats", nowOfTwo(), {}, 1.0, measured);
  const std::string text = line.text();
  EXPECT_NE(text.find(" buffer_budget=2000 buffered_bytes=1100 overload_state=2 "
                      "worker_buffered_bytes=300,800 worker_overload_state=0,2 worker_active="),
            std::string::npos)
      << text;
  EXPECT_NE(line.json().find(R"("worker_overload_state":[0,2])"), std::string::npos);
  EXPECT_EQ(makeStatsLine("stats", nowOfTwo(), {}, 1.0).text().find("buffer_budget"),
            std::string::npos)
      << "no memory keys without gauges";
}

TEST(AdminCountsTest, SnapshotAndInterval) {
  AdminStats live;
  live.accepted.add(9);
  live.closed.add(7);
  live.rejected.add(5);
  live.timed_out.add(2);
  AdminCounts before;
  before.rejected = 1;
  const AdminCounts interval = live.snapshot() - before;
  EXPECT_EQ(interval.rejected, 4u);
  EXPECT_EQ(interval.timed_out, 2u);
  EXPECT_EQ(live.snapshot().active(), 2u);
}

}  // namespace
}  // namespace reactord::server
