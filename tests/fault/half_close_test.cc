// A client that half-closes gets every reply, then a clean EOF, under every
// protocol.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/fault/fault_util.h"
#include "tests/support/test_client.h"

namespace reactord::testing {
namespace {

struct Case {
  std::vector<std::string> flags;
  std::string input;
  std::string expected;
};

std::string repeat(const std::string& text, int times) {
  std::string out;
  for (int i = 0; i < times; ++i) {
    out += text;
  }
  return out;
}

TEST(FaultHalfClose, EveryProtocolAnswersEverythingThenCloses) {
  const std::string bulk = randomBytes(1 << 20, 15);
  const std::string lines = repeat("a message\n", 10000) + "unterminated";
  const std::vector<Case> cases = {
      {{"--protocol=echo"}, bulk, bulk},
      {{"--protocol=echo"}, "", ""},
      {{"--protocol=echo", "--oneshot"}, "Hello World!", "Hello World!"},
      {{"--protocol=ack"}, lines, repeat("Message received\n", 10001)},
      {{"--protocol=ack"}, "", ""},
      {{"--protocol=ack"}, "no newline at all", "Message received\n"},
      {{"--protocol=ack", "--oneshot"}, "one\ntwo\nthree", repeat("Message received\n", 3)},
  };
  std::string figure;
  for (const Case& c : cases) {
    const std::string name = c.flags.back() + " " + std::to_string(c.input.size()) + " bytes";
    SCOPED_TRACE(name);
    ServerProcess server(c.flags);
    for (int round = 0; round < 3; ++round) {
      auto client = TestClient::connect(server.port());
      ASSERT_TRUE(client);
      ASSERT_TRUE(client->sendAll(c.input));
      client->shutdownWrite();
      bool closed = false;
      const std::string reply = client->readUntilClosed(seconds(10), &closed);
      EXPECT_TRUE(reply == c.expected)
          << "got " << reply.size() << " bytes, wanted " << c.expected.size();
      EXPECT_TRUE(closed) << "no EOF after the replies";
      EXPECT_EQ(client->lastReadError(), 0) << "reset instead of a clean close";
    }
    EXPECT_EQ(stopServer(server), 0);
    EXPECT_EQ(statOf(server.statsLine(), "conn_errors"), 0);
    figure += "\n  " + name + ": " + std::to_string(c.expected.size()) + " bytes back, then EOF";
  }
  std::printf("[ figure ] 3 clients per case:%s\n", figure.c_str());
}

}  // namespace
}  // namespace reactord::testing
