// Limits: the process-wide connection cap, running out of file descriptors, and the per-address
// limit.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <thread>
#include <vector>

#include "tests/fault/fault_util.h"
#include "tests/support/test_client.h"

namespace reactord::testing {
namespace {

bool echoes(TestClient& client, const std::string& text) {
  return client.sendAll(text) && client.readExactly(text.size(), milliseconds(5000)) == text;
}

// --max_connections=2 across 2 workers: the third connection is closed at once, counted as
// rejected, and once one of the two leaves a new one is served.
TEST(FaultLimits, MaxConnectionsRejectsTheNextAndRecoversWhenOneLeaves) {
  ServerProcess server({"--workers=2", "--max_connections=2"});
  auto first = TestClient::connect(server.port());
  auto second = TestClient::connect(server.port());
  ASSERT_TRUE(first && second);
  ASSERT_TRUE(echoes(*first, "one"));
  ASSERT_TRUE(echoes(*second, "two"));

  auto third = TestClient::connect(server.port());
  ASSERT_TRUE(third);  // the kernel completes the handshake; the server closes it at once
  bool closed = false;
  EXPECT_EQ(third->readUntilClosed(milliseconds(5000), &closed), "");
  EXPECT_TRUE(closed);

  first.reset();  // frees a slot once the server has seen the close
  bool served = false;
  for (auto deadline = Clock::now() + seconds(5); !served && Clock::now() < deadline;) {
    auto next = TestClient::connect(server.port());
    served = next && echoes(*next, "again");
  }
  EXPECT_TRUE(served);
  EXPECT_TRUE(echoes(*second, "still"));
  server.signal(SIGTERM);
  ASSERT_EQ(server.waitExit(seconds(10)), 0);
  EXPECT_GE(statOf(server.statsLine(), "rejected"), 1);
}

// 11. The server may open 256 files; 1,000 clients connect on top of 10 established ones. The
// server does not spin on EMFILE, the established clients keep their round-trip time, and once the
// crowd leaves the server takes new clients again.
TEST(FaultLimits, FdExhaustionDoesNotSpinKeepsClientsAndRecovers) {
  ServerProcess server({"--workers=2"}, /*wait_listening=*/true, /*open_file_limit=*/256);
  const int baseline_fds = server.fdCount();
  std::vector<TestClient> established;
  for (int i = 0; i < 10; ++i) {
    auto client = TestClient::connect(server.port());
    ASSERT_TRUE(client);
    ASSERT_EQ(client->exchange("hello"), "hello");
    established.push_back(std::move(*client));
  }
  auto roundTripMs = [&] {
    double worst_ms = 0;
    for (auto& client : established) {
      const auto start = Clock::now();
      EXPECT_EQ(client.exchange("ping", seconds(5)), "ping");
      worst_ms = std::max(worst_ms, secondsSince(start) * 1000);
    }
    return worst_ms;
  };
  const double rtt_before_ms = roundTripMs();

  std::vector<TestClient> crowd;
  for (int i = 0; i < 1000; ++i) {
    auto client = TestClient::connect(server.port());  // completes in the kernel's queue
    ASSERT_TRUE(client) << i;
    crowd.push_back(std::move(*client));
  }
  // At the limit: the server's descriptors are all taken, and accept() keeps failing (a stats line
  // on SIGUSR1 counts the failures since the previous one).
  ASSERT_TRUE(waitUntil([&] { return server.fdCount() >= 250; }, seconds(10))) << server.fdCount();
  ASSERT_TRUE(waitUntil(
      [&] {
        server.signal(SIGUSR1);
        std::this_thread::sleep_for(milliseconds(200));
        return statOf(server.statsLine("stats"), "accept_errors") > 0;
      },
      seconds(10)))
      << server.log();
  const int fds_full = server.fdCount();
  const double cpu_before = server.cpuSeconds();
  std::this_thread::sleep_for(seconds(1));  // the measurement window itself
  const double cpu_used = server.cpuSeconds() - cpu_before;
  EXPECT_LT(cpu_used, 0.1) << "the server spins on EMFILE";  // healthy: ~0; spinning: 0.3-2
  const double rtt_during_ms = roundTripMs();
  EXPECT_LT(rtt_during_ms, 1000);

  crowd.clear();  // the crowd leaves: the queued rest are accepted, see EOF, and go
  ASSERT_TRUE(waitUntil([&] { return server.fdCount() == baseline_fds + 10; }, seconds(20)))
      << server.fdCount();
  std::vector<TestClient> newcomers;
  for (int i = 0; i < 100; ++i) {
    auto client = TestClient::connect(server.port());
    ASSERT_TRUE(client);
    EXPECT_EQ(client->exchange("new", seconds(5)), "new") << i;
    newcomers.push_back(std::move(*client));
  }
  EXPECT_LT(roundTripMs(), 1000);
  std::printf(
      "[ figure ] RLIMIT_NOFILE 256: server fds %d at the limit; CPU %.3f s over 1 s while "
      "1000 wait; worst round trip of 10 established clients %.2f ms before, %.2f ms "
      "during; 100 newcomers served after the crowd left\n",
      fds_full, cpu_used, rtt_before_ms, rtt_during_ms);
}

// 12. --max_connections_per_ip=3 across 4 workers: the 4th connection from 127.0.0.1 is refused
// whichever worker the kernel gives it to (20 tries spread over the 4), 127.0.0.2 is still served,
// and a slot freed on one worker can be taken on another.
TEST(FaultLimits, PerIpLimitRefusesTheNextOnAnyWorkerAndSparesOtherAddresses) {
  constexpr int kLimit = 3;
  constexpr int kExtra = 20;
  ServerProcess server({"--workers=4", "--max_connections_per_ip=" + std::to_string(kLimit)});
  std::vector<TestClient> mine;
  for (int i = 0; i < kLimit; ++i) {
    auto client = TestClient::connect(server.port(), "127.0.0.1", nullptr, "127.0.0.1");
    ASSERT_TRUE(client);
    ASSERT_EQ(client->exchange("ok"), "ok");
    mine.push_back(std::move(*client));
  }
  int refused = 0;
  for (int i = 0; i < kExtra; ++i) {
    auto extra = TestClient::connect(server.port(), "127.0.0.1", nullptr, "127.0.0.1");
    ASSERT_TRUE(extra);
    extra->sendAll("refused?");
    bool closed = false;
    const std::string reply = extra->readUntilClosed(seconds(5), &closed);
    EXPECT_TRUE(closed && reply.empty()) << "attempt " << i << " was served";
    refused += closed && reply.empty() ? 1 : 0;
  }
  std::vector<TestClient> others;
  for (int i = 0; i < kLimit; ++i) {
    auto other = TestClient::connect(server.port(), "127.0.0.1", nullptr, "127.0.0.2");
    ASSERT_TRUE(other) << "cannot bind 127.0.0.2";
    EXPECT_EQ(other->exchange("another address"), "another address");
    others.push_back(std::move(*other));
  }
  mine.pop_back();  // frees one slot for 127.0.0.1, on whichever worker held it
  bool replaced = false;
  // The slot is free once the server has read the close: retry for a while, not a number of times
  // (a refused attempt takes microseconds; a sanitized server may take longer to see the close).
  const auto retry_until = std::chrono::steady_clock::now() + seconds(5);
  while (!replaced && std::chrono::steady_clock::now() < retry_until) {
    auto next = TestClient::connect(server.port(), "127.0.0.1", nullptr, "127.0.0.1");
    replaced = next && next->exchange("again", milliseconds(500)) == "again";
    if (replaced) {
      mine.push_back(std::move(*next));
    } else {
      std::this_thread::sleep_for(milliseconds(20));
    }
  }
  EXPECT_TRUE(replaced);
  for (auto& client : mine) {
    EXPECT_EQ(client.exchange("still"), "still");
  }
  mine.clear();
  others.clear();
  ASSERT_EQ(stopServer(server), 0);
  const auto final_line = server.statsLine();
  EXPECT_GE(statOf(final_line, "per_ip_rejected"), kExtra) << server.log();
  std::printf(
      "[ figure ] limit %d: %d of %d extra connections from 127.0.0.1 refused "
      "(per_ip_rejected=%ld); %d from 127.0.0.2 served; worker_accepted=%s\n",
      kLimit, refused, kExtra, statOf(final_line, "per_ip_rejected"), kLimit,
      final_line.at("worker_accepted").c_str());
}

}  // namespace
}  // namespace reactord::testing
