#include <gtest/gtest.h>

#include <chrono>
#include <thread>
#include <vector>

#include "tests/integration/server_process.h"
#include "tests/integration/test_client.h"

namespace reactord::testing {
namespace {

using Clock = std::chrono::steady_clock;

bool echoes(TestClient& client, const std::string& text) {
  return client.sendAll(text) && client.readExactly(text.size(), milliseconds(5000)) == text;
}

TEST(LimitsTest, MaxConnectionsRejectsTheNextAndRecoversWhenOneLeaves) {
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
  for (auto deadline = Clock::now() + std::chrono::seconds(5);
       !served && Clock::now() < deadline;) {
    auto next = TestClient::connect(server.port());
    served = next && echoes(*next, "again");
  }
  EXPECT_TRUE(served);
  EXPECT_TRUE(echoes(*second, "still"));
}

TEST(LimitsTest, IdleConnectionsCloseOnTimeActiveOnesStay) {
  ServerProcess server({"--workers=1", "--idle_timeout_s=1"});
  auto idle = TestClient::connect(server.port());
  auto active = TestClient::connect(server.port());
  ASSERT_TRUE(idle && active);
  ASSERT_TRUE(echoes(*idle, "hi"));
  const auto start = Clock::now();
  bool idle_closed = false;
  double closed_after_s = 0;
  while (Clock::now() - start < std::chrono::milliseconds(3000)) {
    ASSERT_TRUE(echoes(*active, "tick")) << "the active connection was closed";
    bool closed = false;
    idle->readUntilClosed(milliseconds(200), &closed);
    if (closed && !idle_closed) {
      idle_closed = true;
      closed_after_s = std::chrono::duration<double>(Clock::now() - start).count();
    }
  }
  EXPECT_TRUE(idle_closed);
  EXPECT_GE(closed_after_s, 0.9);
  EXPECT_LE(closed_after_s, 2.5);
}

}  // namespace
}  // namespace reactord::testing

namespace reactord::testing {
namespace {

TEST(LimitsTest, OutOfFileDescriptorsDoesNotSpinAndRecovers) {
  // 64 fds: a few for the process itself, the rest for connections; 150 clients want in.
  ServerProcess server({"--workers=1"}, /*wait_listening=*/true, /*open_file_limit=*/64);
  std::vector<TestClient> clients;
  for (int i = 0; i < 150; ++i) {
    auto client = TestClient::connect(server.port());  // completes in the kernel's queue
    ASSERT_TRUE(client) << i;
    clients.push_back(std::move(*client));
  }
  ASSERT_TRUE(clients[0].exchange("first") == "first");
  ASSERT_TRUE(server.waitForLog("Too many open files", milliseconds(5000))) << server.log();

  const double cpu_before = server.cpuSeconds();
  std::this_thread::sleep_for(milliseconds(1000));
  const double cpu_used = server.cpuSeconds() - cpu_before;
  EXPECT_LT(cpu_used, 0.3) << "the server spins on EMFILE";
  EXPECT_TRUE(clients[0].exchange("still served") == "still served");

  // Once the early clients leave, the queued ones are taken in and served.
  clients.erase(clients.begin(), clients.begin() + 100);
  for (size_t i = 0; i < clients.size(); ++i) {
    EXPECT_TRUE(clients[i].exchange("late", milliseconds(10000)) == "late") << i;
  }
}

}  // namespace
}  // namespace reactord::testing

namespace reactord::testing {
namespace {

TEST(LimitsTest, PerIpLimitHoldsAcrossWorkersAndSparesOtherAddresses) {
  ServerProcess server({"--workers=2", "--max_connections_per_ip=3"});
  std::vector<TestClient> mine;
  for (int i = 0; i < 3; ++i) {
    auto client = TestClient::connect(server.port(), "127.0.0.1", nullptr, "127.0.0.1");
    ASSERT_TRUE(client);
    ASSERT_TRUE(echoes(*client, "ok"));
    mine.push_back(std::move(*client));
  }
  // The fourth from the same address is refused, whichever worker the kernel gives it to.
  for (int attempt = 0; attempt < 6; ++attempt) {
    auto extra = TestClient::connect(server.port(), "127.0.0.1", nullptr, "127.0.0.1");
    ASSERT_TRUE(extra);
    bool closed = false;
    EXPECT_EQ(extra->readUntilClosed(milliseconds(5000), &closed), "");
    EXPECT_TRUE(closed) << "attempt " << attempt;
  }
  auto other = TestClient::connect(server.port(), "127.0.0.1", nullptr, "127.0.0.2");
  ASSERT_TRUE(other) << "cannot bind 127.0.0.2";
  EXPECT_TRUE(echoes(*other, "another address"));
  for (auto& client : mine) {
    EXPECT_TRUE(echoes(client, "still"));
  }
}

TEST(LimitsTest, WriteTimeoutClosesAClientThatStoppedReading) {
  ServerProcess server({"--workers=1", "--write_timeout_s=1", "--max_pending_bytes=4096"});
  auto idle = TestClient::connect(server.port());  // nothing pending: not a write stall
  auto stalled = TestClient::connect(server.port());
  ASSERT_TRUE(idle && stalled);
  ASSERT_TRUE(echoes(*idle, "idle"));
  stalled->sendUntilBlocked(randomBytes(64 << 20), milliseconds(300));
  const auto start = Clock::now();
  EXPECT_TRUE(stalled->waitPeerGone(milliseconds(5000)));
  EXPECT_LT(std::chrono::duration<double>(Clock::now() - start).count(), 2.0);
  EXPECT_TRUE(echoes(*idle, "still open"));
}

TEST(LimitsTest, SlowlorisMessageTimesOutEvenWhileBytesTrickle) {
  ServerProcess server({"--protocol=ack", "--message_timeout_s=1", "--idle_timeout_s=5"});
  auto slow = TestClient::connect(server.port());
  auto steady = TestClient::connect(server.port());
  ASSERT_TRUE(slow && steady);
  const auto start = Clock::now();
  std::string received;
  bool closed = false;
  while (!closed && Clock::now() - start < std::chrono::milliseconds(4000)) {
    slow->sendAll("a", milliseconds(1000));  // a message that never ends
    // A client sending whole messages at the same pace is not affected.
    ASSERT_TRUE(steady->sendAll("whole line\n"));
    ASSERT_EQ(steady->readExactly(17), "Message received\n");
    received += slow->readUntilClosed(milliseconds(200), &closed);
  }
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  EXPECT_TRUE(closed);
  EXPECT_EQ(received, "ERR message timeout\n");
  EXPECT_GE(elapsed, 0.9);
  EXPECT_LE(elapsed, 2.5);
  ASSERT_TRUE(steady->sendAll("complete\n"));
  EXPECT_EQ(steady->readExactly(17), "Message received\n");
}

}  // namespace
}  // namespace reactord::testing
