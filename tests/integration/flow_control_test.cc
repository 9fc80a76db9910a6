#include <gtest/gtest.h>

#include "tests/support/server_process.h"
#include "tests/support/test_client.h"

namespace reactord::testing {
namespace {

TEST(FlowControlTest, ClientThatNeverReadsCannotGrowServerMemory) {
  ServerProcess server({"--workers=1", "--max_pending_bytes=65536"});
  auto slow = TestClient::connect(server.port());
  ASSERT_TRUE(slow);
  const long rss_before_kb = server.rssKb();
  const std::string data = randomBytes(256 << 20, 3);
  const size_t sent = slow->sendUntilBlocked(data, milliseconds(1500));

  // The kernel's socket buffers hold a few MiB; beyond them the server must stop reading.
  EXPECT_LT(sent, data.size()) << "the server read everything a non-reading client sent";
  const long growth_kb = server.rssKb() - rss_before_kb;
  EXPECT_LT(growth_kb, 4096 * kSanitizerMemoryFactor)
      << "server RSS grew by " << growth_kb << " KiB after " << sent
      << " bytes from a client that never reads";

  // Other clients are still served.
  auto other = TestClient::connect(server.port());
  ASSERT_TRUE(other);
  ASSERT_TRUE(other->sendAll("still here"));
  EXPECT_EQ(other->readExactly(10), "still here");

  // And once the slow client reads, it gets every byte back, in order.
  const std::string back = slow->readExactly(sent, milliseconds(30000));
  EXPECT_EQ(back.size(), sent);
  EXPECT_TRUE(back == data.substr(0, sent));
}

TEST(FlowControlTest, ReadingResumesAfterTheOutputDrains) {
  ServerProcess server({"--workers=1", "--max_pending_bytes=4096"});
  auto client = TestClient::connect(server.port());
  ASSERT_TRUE(client);
  // Several rounds of filling every buffer and draining them again.
  for (uint32_t round = 0; round < 3; ++round) {
    const std::string data = randomBytes(8 << 20, round);
    const size_t sent = client->sendUntilBlocked(data, milliseconds(500));
    ASSERT_GT(sent, 0u);
    EXPECT_TRUE(client->readExactly(sent, milliseconds(30000)) == data.substr(0, sent))
        << "round " << round;
  }
}

}  // namespace
}  // namespace reactord::testing
