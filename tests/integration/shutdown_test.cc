#include <gtest/gtest.h>
#include <signal.h>

#include <cerrno>
#include <chrono>
#include <thread>

#include "tests/support/server_process.h"
#include "tests/support/test_client.h"

namespace reactord::testing {
namespace {

using Clock = std::chrono::steady_clock;

double secondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// New connects during the drain are refused: tests/fault/drain_test.cc, test 3.
TEST(ShutdownTest, SigtermDrainServesOpenConnectionsToTheEnd) {
  ServerProcess server({"--workers=2", "--drain_timeout_s=30"});
  auto client = TestClient::connect(server.port());
  ASSERT_TRUE(client);
  const std::string before = randomBytes(100000, 1);
  ASSERT_TRUE(client->exchange(before) == before);

  server.signal(SIGTERM);
  const auto closed_by = Clock::now() + milliseconds(5000);
  while (listenerCount(server.port()) > 0 && Clock::now() < closed_by) {
    std::this_thread::sleep_for(milliseconds(10));
  }
  ASSERT_EQ(listenerCount(server.port()), 0) << "the drain did not close the listeners";

  // The open connection is still served, to its very end.
  const std::string after = randomBytes(1 << 20, 2);
  std::string received = client->exchange(after.substr(0, 500000));
  ASSERT_TRUE(client->sendAll(after.substr(500000)));
  client->shutdownWrite();
  bool closed = false;
  received += client->readUntilClosed(milliseconds(10000), &closed);
  EXPECT_TRUE(closed);
  EXPECT_TRUE(received == after);

  const auto start = Clock::now();
  EXPECT_EQ(server.waitExit(milliseconds(10000)), 0);
  EXPECT_LT(secondsSince(start), 5.0) << "the drain waited although no connection was left";
  EXPECT_NE(server.log().find("forced_closed=0"), std::string::npos) << server.log();
}

TEST(ShutdownTest, DrainDeadlineClosesWhatIsLeftAndExitsZero) {
  ServerProcess server({"--workers=1", "--drain_timeout_s=1"});
  auto client = TestClient::connect(server.port());
  ASSERT_TRUE(client);
  ASSERT_TRUE(client->exchange("hello") == "hello");

  const auto start = Clock::now();
  server.signal(SIGTERM);
  EXPECT_EQ(server.waitExit(milliseconds(5000)), 0);
  const double elapsed = secondsSince(start);
  EXPECT_GE(elapsed, 0.9);
  EXPECT_LE(elapsed, 3.0) << "a 1 s drain deadline, plus the time to stop (slow under TSan)";
  bool closed = false;
  client->readUntilClosed(milliseconds(2000), &closed);
  EXPECT_TRUE(closed);
  server.waitForOutputEnd(milliseconds(2000));
  EXPECT_NE(server.log().find("final "), std::string::npos);
  EXPECT_NE(server.log().find("forced_closed=1"), std::string::npos) << server.log();
}

TEST(ShutdownTest, SecondSigtermStopsAtOnce) {
  ServerProcess server({"--drain_timeout_s=60"});
  auto client = TestClient::connect(server.port());
  ASSERT_TRUE(client);
  ASSERT_TRUE(client->exchange("x") == "x");
  server.signal(SIGTERM);
  const auto draining_by = Clock::now() + milliseconds(5000);
  while (listenerCount(server.port()) > 0 && Clock::now() < draining_by) {
    std::this_thread::sleep_for(milliseconds(10));
  }
  ASSERT_EQ(listenerCount(server.port()), 0) << "the first SIGTERM began no drain";
  server.signal(SIGTERM);
  EXPECT_EQ(server.waitExit(milliseconds(5000)), 0) << "a 60 s drain was not cut short";
  bool closed = false;
  client->readUntilClosed(milliseconds(2000), &closed);
  EXPECT_TRUE(closed);
  EXPECT_EQ(server.statsLine().at("forced_closed"), "1");
}

TEST(ShutdownTest, SigquitStopsAtOnce) {
  ServerProcess server({"--drain_timeout_s=60"});
  auto client = TestClient::connect(server.port());
  ASSERT_TRUE(client);
  ASSERT_TRUE(client->exchange("x") == "x");
  server.signal(SIGQUIT);
  EXPECT_EQ(server.waitExit(milliseconds(5000)), 0);
  bool closed = false;
  client->readUntilClosed(milliseconds(2000), &closed);
  EXPECT_TRUE(closed);
}

TEST(ShutdownTest, SigtermBeforeAnyTrafficExitsZero) {
  for (int i = 0; i < 5; ++i) {
    ServerProcess server({"--workers=2"});
    server.signal(SIGTERM);
    EXPECT_EQ(server.waitExit(milliseconds(5000)), 0) << "run " << i;
  }
}

TEST(ShutdownTest, Sigusr1LogsAStatsLineAndSighupIsHarmless) {
  ServerProcess server({});
  server.signal(SIGHUP);
  server.signal(SIGUSR1);
  EXPECT_TRUE(server.waitForLog("stats interval_s=", milliseconds(5000)));
  EXPECT_TRUE(server.waitForLog("SIGHUP", milliseconds(5000)));
  auto client = TestClient::connect(server.port());
  ASSERT_TRUE(client);
  EXPECT_TRUE(client->exchange("alive") == "alive");
}

}  // namespace
}  // namespace reactord::testing
