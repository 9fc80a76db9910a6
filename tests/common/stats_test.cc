#include "common/stats.h"

#include <gtest/gtest.h>

#include <string>

namespace reactord::common {
namespace {

TEST(StatsTest, SumAndDifferenceCoverEveryField) {
  StatsSnapshot a;
  a.accepted = 10;
  a.closed = 4;
  a.bytes_out = 1000;
  a.accept_errors = 2;
  StatsSnapshot b = a;
  b += a;
  EXPECT_EQ(b.accepted, 20u);
  EXPECT_EQ(b.bytes_out, 2000u);
  EXPECT_EQ(b.accept_errors, 4u);
  EXPECT_EQ(b - a, a);
  EXPECT_EQ(b.active(), 12u);
}

TEST(StatsTest, WorkerCountersSnapshot) {
  WorkerStats stats;
  stats.accepted.add(3);
  stats.closed.add();
  stats.messages.add(42);
  const StatsSnapshot s = stats.snapshot();
  EXPECT_EQ(s.accepted, 3u);
  EXPECT_EQ(s.closed, 1u);
  EXPECT_EQ(s.messages, 42u);
  EXPECT_EQ(s.active(), 2u);
}

TEST(StatsTest, LineMergesWorkersAndShowsTheSpread) {
  StatsSnapshot w0;
  w0.accepted = 30;
  w0.closed = 10;
  w0.reads = 500;
  w0.bytes_in = 4000;
  StatsSnapshot w1;
  w1.accepted = 10;
  w1.closed = 10;
  w1.reads = 100;
  StatsSnapshot w0_before;
  w0_before.accepted = 10;
  w0_before.reads = 100;
  const std::string line = formatStatsLine("stats", {w0, w1}, {w0_before, StatsSnapshot{}}, 2.0);
  EXPECT_NE(line.find("stats interval_s=2.0 workers=2 active=20 "), std::string::npos) << line;
  EXPECT_NE(line.find(" accepted=30 closed=20 "), std::string::npos) << line;
  EXPECT_NE(line.find(" conns_per_s=15.0 reads_per_s=250.0 "), std::string::npos) << line;
  EXPECT_NE(line.find(" in_bytes_per_s=2000 "), std::string::npos) << line;
  EXPECT_NE(line.find(" worker_active=20,0 worker_accepted=20,10"), std::string::npos) << line;
}

TEST(StatsTest, AdminKeysOnlyWhenTheAdminEndpointIsOn) {
  const std::vector<StatsSnapshot> workers(1);
  EXPECT_EQ(formatStatsLine("stats", workers, {}, 1.0).find("admin_"), std::string::npos);
  AdminStats live;
  live.rejected.add(5);
  live.timed_out.add(2);
  AdminStatsSnapshot before;
  before.rejected = 1;
  const AdminStatsSnapshot interval = live.snapshot() - before;
  const std::string line = formatStatsLine("stats", workers, {}, 1.0, &interval);
  EXPECT_NE(line.find(" accept_errors=0 admin_rejected=4 admin_timed_out=2 "), std::string::npos)
      << line;
}

TEST(StatsTest, ActiveNeverUnderflows) {
  StatsSnapshot s;
  s.closed = 1;
  EXPECT_EQ(s.active(), 0u);
}

}  // namespace
}  // namespace reactord::common
