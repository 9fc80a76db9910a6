// Smaller edges a hostile pass found: CRLF line ends in ack mode, listening addresses that bind
// but can never take a connection, and rejection log lines that named a descriptor.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/socket_address.h"
#include "tests/fault/fault_util.h"
#include "tests/support/test_client.h"

namespace reactord::testing {
namespace {

constexpr const char* kAck = "Message received\n";
constexpr const char* kTooLong = "ERR message too long\n";

// Telnet and most line-mode clients end lines with "\r\n": the '\r' is not part of the message, so
// a 100-byte line fits --max_message_bytes=100 however the "\r\n" is split between segments, and
// the reply stays "Message received\n". One byte more is too long.
TEST(FaultEdges, CrLfLinesAtTheLimitAreAcknowledged) {
  ServerProcess server({"--workers=1", "--protocol=ack", "--max_message_bytes=100"});
  const std::string line(100, 'x');
  auto client = TestClient::connect(server.port());
  ASSERT_TRUE(client);
  // Sends `data`, returns the first `acks` acknowledgements' worth of reply.
  const auto send = [&](const std::string& data, size_t acks) {
    EXPECT_TRUE(client->sendAll(data));
    return client->readExactly(acks * std::string(kAck).size(), seconds(5));
  };
  EXPECT_EQ(send(line + "\r\n", 1), kAck);
  ASSERT_TRUE(client->sendAll(line + "\r"));  // the "\r" ends one segment, "\n" begins the next
  std::this_thread::sleep_for(milliseconds(50));
  EXPECT_EQ(send("\n", 1), kAck);
  EXPECT_EQ(send("a\r\n\r\nb\n", 3), std::string(kAck) + kAck + kAck);

  auto too_long = TestClient::connect(server.port());
  ASSERT_TRUE(too_long);
  ASSERT_TRUE(too_long->sendAll(line + "x\r\n"));
  bool closed = false;
  EXPECT_EQ(too_long->readUntilClosed(seconds(5), &closed), kTooLong);
  EXPECT_TRUE(closed);
  client.reset();
  too_long.reset();
  ASSERT_EQ(stopServer(server), 0);
  EXPECT_EQ(statOf(server.statsLine(), "too_long"), 1) << server.log();
  std::printf(
      "[ figure ] --max_message_bytes=100: 100-byte CRLF lines acknowledged (5 acks), a "
      "101-byte one refused; too_long=%ld\n",
      statOf(server.statsLine(), "too_long"));
}

// bind() and listen() succeed on a multicast or broadcast address, and the server would report
// "listening" where no client can ever connect. Each is refused at start, for the data port and
// the admin endpoint alike, with exit 1 and a line naming the flag and the reason.
TEST(FaultEdges, MulticastAndBroadcastAddressesAreRefused) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"--bind=224.0.0.1", "multicast"},
      {"--bind=255.255.255.255", "broadcast"},
      {"--bind=127.255.255.255", "broadcast"},  // lo's network, 127.0.0.0/8
      {"--bind=ff02::1", "multicast"},
      {"--admin_port=-1 --admin_bind=239.1.2.3", "multicast"},
  };
  for (const auto& [flags, reason] : cases) {
    std::vector<std::string> arguments = {"--workers=1"};
    const size_t space = flags.find(' ');
    if (space != std::string::npos) {
      arguments.push_back(flags.substr(0, space));
    }
    arguments.push_back(flags.substr(space == std::string::npos ? 0 : space + 1));
    ServerProcess server(arguments, ChildSetup{}, /*wait_listening=*/false);
    const std::optional<int> code = server.waitExit(seconds(5));
    EXPECT_EQ(code, 1) << flags << " (nullopt: it went on running)";
    const std::string log = server.log();
    const std::string flag = arguments.back().substr(0, arguments.back().find('='));
    EXPECT_NE(log.find(flag), std::string::npos) << log;
    EXPECT_NE(log.find(reason), std::string::npos) << log;
    EXPECT_EQ(log.find("listening on"), std::string::npos) << log;
  }
  ServerProcess unicast({"--workers=1", "--bind=127.0.0.1"});  // still fine
  auto client = TestClient::connect(unicast.port());
  ASSERT_TRUE(client);
  EXPECT_EQ(client->exchange("ok"), "ok");
  std::printf("[ figure ] %zu multicast or broadcast addresses refused at start (exit 1)\n",
              cases.size());
}

// With --v=1 a refused connection is logged with the client's address and port, which an operator
// can match with the client; a descriptor number means nothing outside the process.
TEST(FaultEdges, RejectionLogLinesNameTheClientAddress) {
  ServerProcess server(
      {"--workers=1", "--v=1", "--max_connections_per_ip=1", "--max_connections=2"});
  auto first = TestClient::connect(server.port(), "127.0.0.1", nullptr, "127.0.0.2");
  ASSERT_TRUE(first);
  ASSERT_EQ(first->exchange("a"), "a");
  auto refused = TestClient::connect(server.port(), "127.0.0.1", nullptr, "127.0.0.2");
  ASSERT_TRUE(refused);
  const auto local = common::SocketAddress::localOf(refused->fd());
  ASSERT_TRUE(local);
  bool closed = false;
  refused->readUntilClosed(seconds(5), &closed);
  EXPECT_TRUE(closed);
  const std::string per_ip_line =
      "--max_connections_per_ip reached, closing the connection from " + local->toString();
  EXPECT_TRUE(server.waitForLog(per_ip_line, seconds(5))) << server.log();

  auto second = TestClient::connect(server.port(), "127.0.0.1", nullptr, "127.0.0.3");
  ASSERT_TRUE(second);
  ASSERT_EQ(second->exchange("b"), "b");
  auto over = TestClient::connect(server.port(), "127.0.0.1", nullptr, "127.0.0.4");
  ASSERT_TRUE(over);
  const auto over_local = common::SocketAddress::localOf(over->fd());
  ASSERT_TRUE(over_local);
  over->readUntilClosed(seconds(5), &closed);
  EXPECT_TRUE(closed);
  const std::string limit_line =
      "--max_connections reached, closing the connection from " + over_local->toString();
  EXPECT_TRUE(server.waitForLog(limit_line, seconds(5))) << server.log();
  std::printf("[ figure ] rejection lines name %s and %s\n", local->toString().c_str(),
              over_local->toString().c_str());
}

}  // namespace
}  // namespace reactord::testing
