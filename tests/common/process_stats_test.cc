#include "common/process_stats.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <ctime>
#include <limits>
#include <string>

#include "common/unique_fd.h"

namespace reactord::common {
namespace {

// /proc/PID/stat of a process whose name holds a space and a ')', as Linux writes it.
constexpr const char* kStat =
    "4242 (reactord (x) w) S 1 4242 4242 0 -1 4194560 11399 4636590 0 0 1234 567 14388 1777 20 0 "
    "3 0 105870 5341184 997 18446744073709551615 94571687653376 94571688442781 140729450621232 0 "
    "0 0 65536 4 1132560123 1 0 0 17 0 0 0 0 0 0\n";

// /proc/PID/limits as captured on Debian 12.
constexpr const char* kLimits =
    "Limit                     Soft Limit           Hard Limit           Units     \n"
    "Max cpu time              unlimited            unlimited            seconds   \n"
    "Max file size             unlimited            unlimited            bytes     \n"
    "Max stack size            8388608              unlimited            bytes     \n"
    "Max processes             96363                96363                processes \n"
    "Max open files            20000                20000                files     \n"
    "Max locked memory         8388608              8388608              bytes     \n"
    "Max address space         unlimited            unlimited            bytes     \n";

TEST(ProcessStatsTest, ParsesStatAfterTheLastParenthesis) {
  const auto stat = parseProcStat(kStat);
  ASSERT_TRUE(stat.has_value());
  EXPECT_EQ(stat->utime_ticks, 1234u);
  EXPECT_EQ(stat->stime_ticks, 567u);
  EXPECT_EQ(stat->start_ticks, 105870u);
  EXPECT_EQ(stat->vsize_bytes, 5341184u);
  EXPECT_EQ(stat->rss_pages, 997u);
}

TEST(ProcessStatsTest, MalformedStatIsRejected) {
  EXPECT_FALSE(parseProcStat("").has_value());
  EXPECT_FALSE(parseProcStat("4242 reactord S 1").has_value());          // no parentheses
  EXPECT_FALSE(parseProcStat("4242 (reactord) S 1 2 3\n").has_value());  // too few fields
  std::string bad = kStat;
  bad.replace(bad.find("1234"), 4, "12x4");
  EXPECT_FALSE(parseProcStat(bad).has_value());
  std::string negative = kStat;
  negative.replace(negative.find("997"), 3, "-97");
  EXPECT_FALSE(parseProcStat(negative).has_value());
}

TEST(ProcessStatsTest, ParsesTheSoftOpenFileLimit) {
  EXPECT_EQ(parseMaxOpenFiles(kLimits), 20000u);
  EXPECT_EQ(parseMaxOpenFiles("Max open files            unlimited            unlimited  files\n"),
            std::numeric_limits<uint64_t>::max());
  EXPECT_FALSE(parseMaxOpenFiles("Max processes 1 1 processes\n").has_value());
  EXPECT_FALSE(parseMaxOpenFiles("Max open files\n").has_value());
  EXPECT_FALSE(parseMaxOpenFiles("Max open files   lots   lots  files\n").has_value());
}

TEST(ProcessStatsTest, ParsesTheBootTime) {
  EXPECT_EQ(parseBootTime("cpu  1 2 3\nintr 5 6\nctxt 77\nbtime 1796160936\nprocesses 9\n"),
            1796160936u);
  EXPECT_FALSE(parseBootTime("cpu  1 2 3\n").has_value());
  EXPECT_FALSE(parseBootTime("btime \n").has_value());
  EXPECT_FALSE(parseBootTime("btime 12 13\n").has_value());
}

TEST(ProcessStatsTest, CombinesTicksAndPages) {
  const ProcessStats stats =
      makeProcessStats(*parseProcStat(kStat), 1796160936, 20000, 12, /*ticks_per_second=*/100,
                       /*page_size=*/4096);
  EXPECT_EQ(stats.open_fds, 12u);
  EXPECT_EQ(stats.max_fds, 20000u);
  EXPECT_EQ(stats.resident_bytes, 997u * 4096);
  EXPECT_EQ(stats.virtual_bytes, 5341184u);
  EXPECT_DOUBLE_EQ(stats.cpu_seconds, 18.01);
  EXPECT_DOUBLE_EQ(stats.start_time_s, 1796160936 + 1058.70);
}

TEST(ProcessStatsTest, ReadsThisProcess) {
  std::string error;
  const auto before = readProcessStats(&error);
  ASSERT_TRUE(before.has_value()) << error;
  rlimit limit{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &limit), 0);
  EXPECT_EQ(before->max_fds, limit.rlim_cur);
  EXPECT_GT(before->resident_bytes, 0u);
  EXPECT_GE(before->virtual_bytes, before->resident_bytes);
  const double now = static_cast<double>(std::time(nullptr));
  EXPECT_LE(before->start_time_s, now + 1);
  EXPECT_GT(before->start_time_s, now - 3600);  // this test binary started within the hour
  // Three more descriptors are three more open fds (nothing else opens any meanwhile).
  const UniqueFd a(open("/dev/null", O_RDONLY | O_CLOEXEC));
  const UniqueFd b(open("/dev/null", O_RDONLY | O_CLOEXEC));
  const UniqueFd c(open("/dev/null", O_RDONLY | O_CLOEXEC));
  const auto after = readProcessStats(&error);
  ASSERT_TRUE(after.has_value()) << error;
  EXPECT_EQ(after->open_fds, before->open_fds + 3);
}

}  // namespace
}  // namespace reactord::common
