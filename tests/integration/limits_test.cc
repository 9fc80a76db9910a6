#include <gtest/gtest.h>

#include <chrono>
#include <thread>

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
