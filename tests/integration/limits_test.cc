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
