#include <gtest/gtest.h>

#include <string>

#include "tests/support/server_process.h"
#include "tests/support/test_client.h"

namespace reactord::testing {
namespace {

const std::string kAck = "Message received\n";

std::string acks(int count) {
  std::string out;
  for (int i = 0; i < count; ++i) {
    out += kAck;
  }
  return out;
}

TEST(AckTest, MessageSplitAcrossWritesIsAnsweredOnceComplete) {
  ServerProcess server({"--protocol=ack"});
  auto client = TestClient::connect(server.port());
  ASSERT_TRUE(client);
  ASSERT_TRUE(client->sendAll("Hel"));
  ASSERT_TRUE(client->sendAll("lo Wor"));
  EXPECT_EQ(client->readFor(milliseconds(200)), "") << "answered before the '\\n'";
  ASSERT_TRUE(client->sendAll("ld\n"));
  EXPECT_EQ(client->readExactly(kAck.size()), kAck);
}

TEST(AckTest, MergedMessagesAreEachAnswered) {
  ServerProcess server({"--protocol=ack"});
  auto client = TestClient::connect(server.port());
  ASSERT_TRUE(client);
  ASSERT_TRUE(client->sendAll("one\ntwo\n\nthree\n"));
  EXPECT_EQ(client->readExactly(4 * kAck.size()), acks(4));
  EXPECT_EQ(client->readFor(milliseconds(100)), "");
}

TEST(AckTest, ManyMessagesInBulk) {
  ServerProcess server({"--protocol=ack"});
  auto client = TestClient::connect(server.port());
  ASSERT_TRUE(client);
  std::string messages;
  for (int i = 0; i < 100000; ++i) {
    messages += "m" + std::to_string(i) + "\n";
  }
  ASSERT_TRUE(client->sendAll(messages));
  client->shutdownWrite();
  bool closed = false;
  const std::string replies = client->readUntilClosed(milliseconds(30000), &closed);
  EXPECT_TRUE(closed);
  EXPECT_EQ(replies.size(), 100000 * kAck.size());
  EXPECT_TRUE(replies == acks(100000));
}

TEST(AckTest, FinalUnterminatedMessageIsAnsweredAtEof) {
  ServerProcess server({"--protocol=ack"});
  auto client = TestClient::connect(server.port());
  ASSERT_TRUE(client);
  ASSERT_TRUE(client->sendAll("first\nlast without newline"));
  client->shutdownWrite();
  bool closed = false;
  EXPECT_EQ(client->readUntilClosed(milliseconds(5000), &closed), acks(2));
  EXPECT_TRUE(closed);
}

TEST(AckTest, OversizedMessageGetsAnErrorAndOnlyItsConnectionCloses) {
  ServerProcess server({"--protocol=ack", "--max_message_bytes=100", "--workers=1"});
  auto bystander = TestClient::connect(server.port());
  auto offender = TestClient::connect(server.port());
  ASSERT_TRUE(bystander && offender);
  ASSERT_TRUE(bystander->sendAll("before\n"));
  EXPECT_EQ(bystander->readExactly(kAck.size()), kAck);

  ASSERT_TRUE(offender->sendAll("ok\n" + std::string(101, 'x')));
  bool closed = false;
  EXPECT_EQ(offender->readUntilClosed(milliseconds(5000), &closed),
            kAck + "ERR message too long\n");
  EXPECT_TRUE(closed);

  ASSERT_TRUE(bystander->sendAll("after\n"));
  EXPECT_EQ(bystander->readExactly(kAck.size()), kAck);
}

TEST(AckTest, OversizedMessageStillSendingGetsItsErrorBeforeTheClose) {
  // The client keeps sending after the limit: the server must not reset the connection before
  // the error reply is read.
  ServerProcess server({"--protocol=ack", "--max_message_bytes=1000"});
  auto client = TestClient::connect(server.port());
  ASSERT_TRUE(client);
  client->sendAll(std::string(200000, 'z'), milliseconds(2000));
  EXPECT_EQ(client->readExactly(21), "ERR message too long\n");
  // Lingering close: the server discards what still comes and closes cleanly after our EOF,
  // instead of answering unread data with a reset.
  EXPECT_TRUE(client->sendAll(std::string(100000, 'z'), milliseconds(2000)))
      << "the server reset the connection instead of discarding the rest";
  client->shutdownWrite();
  bool closed = false;
  client->readUntilClosed(milliseconds(5000), &closed);
  EXPECT_TRUE(closed);
  EXPECT_EQ(client->lastReadError(), 0) << strerror(client->lastReadError());
}

TEST(AckTest, MessageAtTheLimitIsAccepted) {
  ServerProcess server({"--protocol=ack", "--max_message_bytes=100"});
  auto client = TestClient::connect(server.port());
  ASSERT_TRUE(client);
  ASSERT_TRUE(client->sendAll(std::string(100, 'x') + "\n"));
  EXPECT_EQ(client->readExactly(kAck.size()), kAck);
}

TEST(AckTest, OneshotAnswersTheFirstReadAndCloses) {
  ServerProcess server({"--protocol=ack", "--oneshot"});
  auto client = TestClient::connect(server.port());
  ASSERT_TRUE(client);
  ASSERT_TRUE(client->sendAll("Hello World\n"));
  bool closed = false;
  EXPECT_EQ(client->readUntilClosed(milliseconds(5000), &closed), kAck);
  EXPECT_TRUE(closed);
}

}  // namespace
}  // namespace reactord::testing
