#include <gtest/gtest.h>
#include <sys/socket.h>

#include "tests/support/server_process.h"
#include "tests/support/test_client.h"

namespace reactord::testing {
namespace {

TEST(EchoTest, TutorialMessageComesBack) {
  ServerProcess server({"--workers=1"});
  auto client = TestClient::connect(server.port());
  ASSERT_TRUE(client);
  ASSERT_TRUE(client->sendAll("Hello, Async World!"));
  EXPECT_EQ(client->readExactly(19), "Hello, Async World!");
}

TEST(EchoTest, LargeStreamComesBackIntact) {
  ServerProcess server({"--workers=2"});
  auto client = TestClient::connect(server.port());
  ASSERT_TRUE(client);
  const std::string data = randomBytes(16 << 20);
  EXPECT_TRUE(client->exchange(data) == data);
}

TEST(EchoTest, HalfCloseEchoesEverythingThenCloses) {
  ServerProcess server({"--workers=1"});
  auto client = TestClient::connect(server.port());
  ASSERT_TRUE(client);
  const std::string data = randomBytes(1 << 20, 7);
  // Send it all before reading anything: the server must keep it (backpressure), echo it, and
  // close only after the last byte.
  std::string received = client->exchange(data.substr(0, data.size() / 2));
  ASSERT_TRUE(client->sendAll(data.substr(data.size() / 2)));
  client->shutdownWrite();
  bool closed = false;
  received += client->readUntilClosed(milliseconds(20000), &closed);
  EXPECT_TRUE(closed);
  EXPECT_EQ(received.size(), data.size());
  EXPECT_TRUE(received == data);
}

TEST(EchoTest, OneshotAnswersOnceAndCloses) {
  ServerProcess server({"--oneshot"});
  auto client = TestClient::connect(server.port());
  ASSERT_TRUE(client);
  ASSERT_TRUE(client->sendAll("Hello World\n"));
  bool closed = false;
  EXPECT_EQ(client->readUntilClosed(milliseconds(5000), &closed), "Hello World\n");
  EXPECT_TRUE(closed);
}

TEST(EchoTest, ManyClientsAtOnceEachGetTheirOwnBytes) {
  ServerProcess server({"--workers=2"});
  std::vector<TestClient> clients;
  for (int i = 0; i < 40; ++i) {
    auto client = TestClient::connect(server.port());
    ASSERT_TRUE(client);
    clients.push_back(std::move(*client));
  }
  for (int round = 0; round < 3; ++round) {
    for (size_t i = 0; i < clients.size(); ++i) {
      ASSERT_TRUE(clients[i].sendAll(randomBytes(1000, round * 100 + i)));
    }
    for (size_t i = 0; i < clients.size(); ++i) {
      EXPECT_TRUE(clients[i].readExactly(1000) == randomBytes(1000, round * 100 + i)) << i;
    }
  }
}

TEST(EchoTest, Ipv6WildcardServesBothFamilies) {
  int error = 0;
  {
    ServerProcess probe({"--bind=::1"}, /*wait_listening=*/false);
    if (!probe.waitForLog("listening on", milliseconds(5000))) {
      GTEST_SKIP() << "no IPv6 loopback on this machine";
    }
  }
  ServerProcess server({"--bind=::"});
  for (const char* host : {"::1", "127.0.0.1"}) {
    auto client = TestClient::connect(server.port(), host, &error);
    ASSERT_TRUE(client) << host << ": " << strerror(error);
    ASSERT_TRUE(client->sendAll(host));
    EXPECT_EQ(client->readExactly(strlen(host)), host);
  }
}

}  // namespace
}  // namespace reactord::testing
