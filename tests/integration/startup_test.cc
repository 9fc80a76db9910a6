#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <string>
#include <vector>

#include "common/cpu_count.h"
#include "common/memory_limit.h"
#include "tests/support/server_process.h"
#include "tests/support/test_client.h"

namespace reactord::testing {
namespace {

TEST(StartupTest, WorkersShareOnePortAndTheKernelSpreadsConnections) {
  ServerProcess server({"--workers=3"});
  EXPECT_EQ(listenerCount(server.port()), 3);
  for (int i = 0; i < 60; ++i) {
    auto client = TestClient::connect(server.port());
    ASSERT_TRUE(client);
    ASSERT_TRUE(client->exchange("x") == "x");
  }
  server.signal(SIGTERM);
  ASSERT_EQ(server.waitExit(milliseconds(10000)), 0);
  server.waitForOutputEnd(milliseconds(2000));
  const std::vector<long> counts = statsList(server.statsLine("final")["worker_accepted"]);
  ASSERT_EQ(counts.size(), 3u) << server.log();
  long total = 0;
  for (long count : counts) {
    total += count;
    EXPECT_GT(count, 0) << "a worker got no connection out of 60: " << server.log();
  }
  EXPECT_EQ(total, 60);
}

TEST(StartupTest, BadFlagsExitNonZeroNamingTheFlag) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"--workers=-1", "workers"},
      {"--port=70000", "port"},
      {"--protocol=http", "protocol"},
      {"--max_pending_bytes=0", "max_pending_bytes"},
      {"--max_message_bytes=0", "max_message_bytes"},
      {"--max_buffered_bytes=4096", "max_buffered_bytes"},
      {"--max_buffered_bytes=-1", "max_buffered_bytes"},
      {"--bind=not-an-address", "bind"},
      {"--drain_timeout_s=-5", "drain_timeout_s"},
      {"--idle_timeout_s=-1", "idle_timeout_s"},
      {"--backlog=0", "backlog"},
      {"--proxy_protocol_from=10.1.0.0/8", "proxy_protocol_from"},
      {"--proxy_protocol_from=", "proxy_protocol_from"},
      {"--proxy_protocol_from=example.com", "proxy_protocol_from"},
      {"--proxy_header_timeout_s=0", "proxy_header_timeout_s"},
      {"--no_such_flag=1", "no_such_flag"},
      {"stray-argument", "stray-argument"},
  };
  for (const auto& [flag, name] : cases) {
    const RunResult result = runReactord({flag});
    EXPECT_NE(result.exit_code, 0) << flag;
    EXPECT_NE(result.exit_code, -1000) << flag << " did not exit";
    EXPECT_NE(result.output.find(name), std::string::npos) << flag << ": " << result.output;
  }
}

TEST(StartupTest, WatchdogFlagsAreCheckedAloneAndAgainstEachOther) {
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"--watchdog_miss_ms=49"}, "--watchdog_miss_ms=49 is out of range"},
      {{"--watchdog_megamiss_ms=0"}, "--watchdog_megamiss_ms=0 is out of range"},
      {{"--watchdog_kill_s=-1"}, "--watchdog_kill_s=-1 is out of range"},
      {{"--watchdog_megamiss_ms=100"},
       "--watchdog_megamiss_ms=100 is below --watchdog_miss_ms=200"},
      {{"--watchdog_miss_ms=2000", "--watchdog_megamiss_ms=3000", "--watchdog_kill_s=2"},
       "--watchdog_kill_s=2 must exceed --watchdog_miss_ms=2000"},
  };
  for (const auto& [flags, message] : cases) {
    const RunResult result = runReactord(flags);
    EXPECT_EQ(result.exit_code, 1) << flags[0] << ": " << result.output;
    EXPECT_NE(result.output.find(message), std::string::npos) << flags[0] << ": " << result.output;
  }
  const RunResult help = runReactord({"--help"});
  for (const char* flag : {"watchdog_miss_ms", "watchdog_megamiss_ms", "watchdog_kill_s"}) {
    EXPECT_NE(help.output.find(flag), std::string::npos) << flag;
  }
}

TEST(StartupTest, PortInUseExitsNonZeroWithTheAddress) {
  ServerProcess first({"--bind=127.0.0.1"});
  const std::string port = std::to_string(first.port());
  const RunResult second = runReactord({"--bind=127.0.0.1", "--port=" + port});
  EXPECT_EQ(second.exit_code, 1);
  EXPECT_NE(second.output.find("127.0.0.1:" + port), std::string::npos) << second.output;
  EXPECT_NE(second.output.find("in use"), std::string::npos) << second.output;
  // The first one keeps all of its traffic.
  auto client = TestClient::connect(first.port());
  ASSERT_TRUE(client);
  EXPECT_TRUE(client->exchange("mine") == "mine");
}

TEST(StartupTest, VersionAndHelp) {
  const RunResult version = runReactord({"--version"});
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_NE(version.output.find(REACTORD_VERSION_FOR_TESTS), std::string::npos) << version.output;
  const RunResult help = runReactord({"--help"});
  EXPECT_EQ(help.exit_code, 0) << "help that was asked for is not a failure";
  for (const char* flag :
       {"bind", "port", "workers", "protocol", "oneshot", "backlog", "max_connections",
        "max_pending_bytes", "max_message_bytes", "max_buffered_bytes", "idle_timeout_s",
        "drain_timeout_s", "stats_interval_s"}) {
    EXPECT_NE(help.output.find(std::string("-") + flag + " ("), std::string::npos) << flag;
  }
}

TEST(StartupTest, WorkersDefaultToTheUsableCpus) {
  // The server inherits this process's affinity mask and cgroup.
  const common::CpuCount expected = common::probeUsableCpus(common::affinityCpuCount());
  ServerProcess server({"--workers=0"});
  const std::string line = "workers=" + std::to_string(expected.count) + " (from ";
  EXPECT_NE(server.log().find(line), std::string::npos) << server.log();
  EXPECT_EQ(listenerCount(server.port()), expected.count);
}

TEST(StartupTest, BufferBudgetDefaultsToHalfTheMemoryLimit) {
  // The server inherits this process's cgroup and sees the same /proc/meminfo.
  const common::MemoryLimit limit = common::probeMemoryLimit();
  ServerProcess server({"--workers=2"});
  EXPECT_TRUE(server.waitForLog("buffer budget " + std::to_string(limit.bytes / 2) + " bytes, ",
                                milliseconds(1000)))
      << server.log();
  EXPECT_NE(server.log().find("(from " + limit.source + ")"), std::string::npos) << server.log();
  ServerProcess explicit_budget({"--workers=2", "--max_buffered_bytes=8388608"});
  EXPECT_NE(explicit_budget.log().find("buffer budget 8388608 bytes, 8.0 MiB (from "
                                       "--max_buffered_bytes)"),
            std::string::npos)
      << explicit_budget.log();
}

}  // namespace
}  // namespace reactord::testing
