#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "common/cpu_count.h"
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
  const std::string log = server.log();
  const size_t at = log.find("worker_accepted=", log.find("final "));
  ASSERT_NE(at, std::string::npos) << log;
  std::istringstream counts(log.substr(at + 16, log.find('\n', at) - at - 16));
  std::string count;
  int workers = 0, total = 0;
  while (std::getline(counts, count, ',')) {
    ++workers;
    total += std::stoi(count);
    EXPECT_GT(std::stoi(count), 0) << "a worker got no connection out of 60: " << log;
  }
  EXPECT_EQ(workers, 3);
  EXPECT_EQ(total, 60);
}

TEST(StartupTest, BadFlagsExitNonZeroNamingTheFlag) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"--workers=-1", "workers"},
      {"--port=70000", "port"},
      {"--protocol=http", "protocol"},
      {"--max_pending_bytes=0", "max_pending_bytes"},
      {"--max_message_bytes=0", "max_message_bytes"},
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
  for (const char* flag : {"bind", "port", "workers", "protocol", "oneshot", "backlog",
                           "max_connections", "max_pending_bytes", "max_message_bytes",
                           "idle_timeout_s", "drain_timeout_s", "stats_interval_s"}) {
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

}  // namespace
}  // namespace reactord::testing
