// SIGTERM drains without losing a byte, on time, and refuses newcomers.
#include <gtest/gtest.h>
#include <signal.h>

#include <cerrno>
#include <thread>
#include <vector>

#include "tests/fault/echo_load.h"
#include "tests/fault/fault_util.h"
#include "tests/support/test_client.h"

namespace reactord::testing {
namespace {

// 1. 190 clients half-close at random moments within 1 s of SIGTERM and must get every byte back;
// 10 keep streaming, so the server has to stop at the 3 s deadline (plus at most 1 s).
TEST(FaultDrain, SigtermDuringEchoLoadEchoesEveryByteAndExitsByTheDeadline) {
  constexpr int kClients = 200;
  constexpr int kStubborn = 10;
  ServerProcess server({"--workers=2", "--drain_timeout_s=3"});
  EchoLoad load(server.port(), kClients, kStubborn);
  std::thread driver([&] { load.run(seconds(20)); });
  const bool loaded = waitUntil([&] { return load.echoed() > (8u << 20); }, seconds(10));
  const uint64_t echoed_before = load.echoed();

  const auto start = Clock::now();
  server.signal(SIGTERM);
  load.closeSoon(milliseconds(1000));
  const std::optional<int> exit_code = server.waitExit(seconds(10));
  const double exit_s = secondsSince(start);
  load.stop();
  driver.join();
  ASSERT_TRUE(loaded) << "no load before SIGTERM";

  uint64_t verified_bytes = 0;
  for (const auto& client : load.clients()) {
    if (!client.closes) {
      continue;
    }
    SCOPED_TRACE("client " + std::to_string(client.seed));
    EXPECT_TRUE(client.eof && !client.failed) << "no clean EOF after the half-close";
    EXPECT_FALSE(client.mismatch);
    EXPECT_EQ(client.received, client.sent);
    verified_bytes += client.received;
  }
  EXPECT_EQ(exit_code, 0);
  EXPECT_LE(exit_s, 3.0 + 1.0);
  const auto final_line = server.statsLine();
  EXPECT_EQ(statOf(final_line, "forced_closed"), kStubborn) << server.log();
  std::printf(
      "[ figure ] %d clients, %.1f MiB echoed before SIGTERM, %.1f MiB verified on the "
      "%d that closed; exit %d after %.2f s (deadline 3 s)\n",
      kClients, echoed_before / 1048576.0, verified_bytes / 1048576.0, kClients - kStubborn,
      exit_code.value_or(-1), exit_s);
}

// 2. Idle connections do not hold the drain beyond its deadline, and each is counted.
TEST(FaultDrain, DeadlineClosesHundredIdleConnectionsOnTime) {
  ServerProcess server({"--workers=2", "--drain_timeout_s=2"});
  std::vector<TestClient> clients;
  for (int i = 0; i < 100; ++i) {
    auto client = TestClient::connect(server.port());
    ASSERT_TRUE(client);
    ASSERT_EQ(client->exchange("idle"), "idle");
    clients.push_back(std::move(*client));
  }
  const auto start = Clock::now();
  EXPECT_EQ(stopServer(server), 0);
  const double exit_s = secondsSince(start);
  EXPECT_GE(exit_s, 2.0 * 0.8);
  EXPECT_LE(exit_s, 2.0 * 1.2);
  EXPECT_EQ(statOf(server.statsLine(), "forced_closed"), 100) << server.log();
  int closed_count = 0;
  for (auto& client : clients) {
    bool closed = false;
    client.readUntilClosed(milliseconds(2000), &closed);
    closed_count += closed ? 1 : 0;
  }
  EXPECT_EQ(closed_count, 100);
  std::printf("[ figure ] exit %.2f s after SIGTERM (deadline 2 s), forced_closed=%ld\n", exit_s,
              statOf(server.statsLine(), "forced_closed"));
}

// 3. Once the drain has closed the listeners, a connect fails at once with ECONNREFUSED.
TEST(FaultDrain, ConnectsAfterTheDrainStartsAreRefusedAtOnce) {
  ServerProcess server({"--workers=4", "--drain_timeout_s=30"});
  auto holder = TestClient::connect(server.port());  // keeps the drain going
  ASSERT_TRUE(holder);
  ASSERT_EQ(holder->exchange("hold"), "hold");
  server.signal(SIGTERM);
  ASSERT_TRUE(waitUntil([&] { return listenerCount(server.port()) == 0; }, seconds(5)))
      << "the drain did not close the listeners";
  double slowest_s = 0;
  for (int i = 0; i < 50; ++i) {
    const auto start = Clock::now();
    int error = 0;
    EXPECT_FALSE(TestClient::connectWithin(server.port(), seconds(3), &error)) << i;
    EXPECT_EQ(error, ECONNREFUSED) << "attempt " << i << " hung or was accepted";
    slowest_s = std::max(slowest_s, secondsSince(start));
  }
  EXPECT_LT(slowest_s, 1.0);
  EXPECT_EQ(holder->exchange("still served"), "still served");
  holder->shutdownWrite();
  bool closed = false;
  holder->readUntilClosed(seconds(5), &closed);
  EXPECT_TRUE(closed);
  EXPECT_EQ(server.waitExit(seconds(10)), 0);
  std::printf("[ figure ] 50 connects during the drain: all ECONNREFUSED, slowest %.1f ms\n",
              slowest_s * 1000);
}

// 4. Connections that completed their handshake while the server was stopped (SIGSTOP) sit in the
// kernel's accept queues when SIGTERM arrives: they are accepted and served, not reset. 2,000 of
// them (500 per worker, 16 accept bursts each), so that the drain begins while most still wait.
TEST(FaultDrain, QueuedConnectionsAtSigtermAreServedNotReset) {
  constexpr int kQueued = 2000;
  ServerProcess server({"--workers=4", "--drain_timeout_s=10"});
  server.signal(SIGSTOP);
  ASSERT_TRUE(waitUntil([&] { return processState(server.pid()) == 'T'; }, seconds(5)));
  std::vector<TestClient> clients;
  for (int i = 0; i < kQueued; ++i) {
    auto client = TestClient::connect(server.port());  // the kernel completes the handshake
    ASSERT_TRUE(client) << i;
    ASSERT_TRUE(client->sendAll("queued " + std::to_string(i)));
    client->shutdownWrite();
    clients.push_back(std::move(*client));
  }
  server.signal(SIGTERM);  // stays pending while stopped
  server.signal(SIGCONT);
  int served = 0;
  int reset = 0;
  for (int i = 0; i < kQueued; ++i) {
    bool closed = false;
    const std::string reply = clients[i].readUntilClosed(seconds(10), &closed);
    served += reply == "queued " + std::to_string(i) && closed ? 1 : 0;
    reset += clients[i].lastReadError() != 0 ? 1 : 0;
  }
  EXPECT_EQ(served, kQueued) << "queued connections lost";
  EXPECT_EQ(reset, 0) << "queued connections reset";
  EXPECT_EQ(server.waitExit(seconds(10)), 0);
  const auto final_line = server.statsLine();
  EXPECT_EQ(statOf(final_line, "accepted"), kQueued) << server.log();
  EXPECT_EQ(statOf(final_line, "forced_closed"), 0);
  std::printf("[ figure ] %d of %d queued connections served after SIGTERM, %d reset\n", served,
              kQueued, reset);
}

}  // namespace
}  // namespace reactord::testing
