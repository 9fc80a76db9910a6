// Many short connections, a connect flood, a storm of resets.
#include <gtest/gtest.h>

#include <numeric>
#include <random>
#include <vector>

#include "tests/fault/fault_util.h"
#include "tests/support/test_client.h"

namespace reactord::testing {
namespace {

// Opens `count` connections (blocking connects: the handshake completes in the kernel's queue).
std::vector<TestClient> connectMany(uint16_t port, int count) {
  std::vector<TestClient> clients;
  clients.reserve(count);
  for (int i = 0; i < count; ++i) {
    auto client = TestClient::connect(port);
    if (client) {
      clients.push_back(std::move(*client));
    }
  }
  return clients;
}

// 5. 20,000 short connections (the tutorial's one-shot exchange, in batches of 100 so the test
// process stays far below its 20,000 open files) spread evenly over 4 workers.
TEST(FaultFlood, TwentyThousandShortConnectionsSpreadEvenlyOverFourWorkers) {
  constexpr int kConnections = 20000;
  constexpr int kBatch = 100;
  ServerProcess server({"--workers=4", "--oneshot"});
  const auto start = Clock::now();
  int served = 0;
  for (int done = 0; done < kConnections; done += kBatch) {
    std::vector<TestClient> batch = connectMany(server.port(), kBatch);
    ASSERT_EQ(batch.size(), static_cast<size_t>(kBatch)) << "after " << done;
    for (auto& client : batch) {
      ASSERT_TRUE(client.sendAll("x"));
    }
    for (auto& client : batch) {
      bool closed = false;
      served += client.readUntilClosed(seconds(10), &closed) == "x" && closed ? 1 : 0;
    }
  }
  const double elapsed_s = secondsSince(start);
  EXPECT_EQ(served, kConnections);
  ASSERT_EQ(stopServer(server), 0);
  const std::vector<long> shares = statsList(server.statsLine()["worker_accepted"]);
  ASSERT_EQ(shares.size(), 4u) << server.log();
  EXPECT_EQ(std::accumulate(shares.begin(), shares.end(), 0L), kConnections);
  std::string figure;
  for (const long share : shares) {
    const double percent = 100.0 * share / kConnections;
    EXPECT_NEAR(percent, 25.0, 5.0) << server.statsLine()["worker_accepted"];
    figure += std::to_string(percent).substr(0, 5) + "% ";
  }
  std::printf("[ figure ] %d connections in %.1f s; worker shares %s\n", served, elapsed_s,
              figure.c_str());
}

// 13. 5,000 connects within about a second, in batches of 500 that close at once: no crash, every
// connection accounted for, and the server's descriptors back to where they started.
TEST(FaultFlood, ConnectFloodLeavesNoDescriptorBehind) {
  ServerProcess server({"--workers=2"});
  auto bystander = TestClient::connect(server.port());
  ASSERT_TRUE(bystander);
  ASSERT_EQ(bystander->exchange("before"), "before");
  const int baseline_fds = server.fdCount();
  const auto start = Clock::now();
  int connected = 0;
  int peak_fds = 0;
  for (int batch = 0; batch < 10; ++batch) {
    std::vector<TestClient> clients = connectMany(server.port(), 500);
    connected += static_cast<int>(clients.size());
    peak_fds = std::max(peak_fds, server.fdCount());
    for (size_t i = 0; i < clients.size(); i += 2) {
      clients[i].abort();  // half of them reset, the other half close normally
    }
  }
  const double flood_s = secondsSince(start);
  EXPECT_EQ(connected, 5000);
  EXPECT_TRUE(waitUntil([&] { return server.fdCount() == baseline_fds; }, seconds(10)))
      << "fds: " << server.fdCount() << ", baseline " << baseline_fds;
  const int fds_after = server.fdCount();
  EXPECT_EQ(bystander->exchange("after"), "after");
  bystander.reset();
  ASSERT_EQ(stopServer(server), 0);
  const auto final_line = server.statsLine();
  EXPECT_EQ(statOf(final_line, "accepted"), 5001) << server.log();
  EXPECT_EQ(statOf(final_line, "active"), 0);
  std::printf("[ figure ] 5000 connects in %.2f s; server fds %d before, peak %d, %d after\n",
              flood_s, baseline_fds, peak_fds, fds_after);
}

// 14. Clients abort with a reset at random points: while sending, while the echo streams back,
// right after connecting. No crash, no descriptor leak, the errors counted.
TEST(FaultFlood, ResetStormLeavesNoDescriptorBehindAndCountsErrors) {
  constexpr int kClients = 600;
  constexpr int kRounds = 3;
  ServerProcess server({"--workers=2", "--max_pending_bytes=65536"});
  const int baseline_fds = server.fdCount();
  const std::string payload = randomBytes(1 << 20, 7);
  std::mt19937 random(5);
  int aborted = 0;
  for (int round = 0; round < kRounds; ++round) {
    std::vector<TestClient> clients = connectMany(server.port(), kClients / kRounds);
    ASSERT_EQ(clients.size(), static_cast<size_t>(kClients / kRounds));
    for (auto& client : clients) {
      const size_t size = 1 + random() % payload.size();
      switch (random() % 3) {
        case 0:  // mid-send: the server has unread input
          client.sendUntilBlocked(payload.substr(0, size), milliseconds(5));
          break;
        case 1:  // mid-echo: the server has output on its way
          client.sendAll(payload.substr(0, std::min<size_t>(size, 128 << 10)), seconds(2));
          client.readExactly(random() % 4096 + 1, milliseconds(500));
          break;
        default:  // at once
          break;
      }
    }
    for (auto& client : clients) {
      client.abort();
      ++aborted;
    }
  }
  EXPECT_TRUE(waitUntil([&] { return server.fdCount() == baseline_fds; }, seconds(10)))
      << "fds: " << server.fdCount() << ", baseline " << baseline_fds;
  const int fds_after = server.fdCount();
  auto survivor = TestClient::connect(server.port());
  ASSERT_TRUE(survivor);
  EXPECT_EQ(survivor->exchange("alive"), "alive");
  survivor.reset();
  ASSERT_EQ(stopServer(server), 0);
  const auto final_line = server.statsLine();
  EXPECT_EQ(statOf(final_line, "accepted"), kClients + 1) << server.log();
  EXPECT_EQ(statOf(final_line, "active"), 0);
  EXPECT_GT(statOf(final_line, "conn_errors"), 0);
  EXPECT_LE(statOf(final_line, "conn_errors"), kClients);
  std::printf("[ figure ] %d aborted clients; conn_errors=%ld; server fds %d before, %d after\n",
              aborted, statOf(final_line, "conn_errors"), baseline_fds, fds_after);
}

}  // namespace
}  // namespace reactord::testing
