// What a real HAProxy sends (send-proxy, and send-proxy-v2 with a CRC32C and a unique-id TLV) read
// by ProxyHeaderParser, for clients bound to 127.0.0.2 and 127.0.0.3: the parser against the
// reference sender, independently of reactord. Skipped when haproxy is not installed.
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>

#include <string>

#include "common/listen_socket.h"
#include "common/proxy_header_parser.h"
#include "common/socket_address.h"
#include "tests/support/haproxy_process.h"
#include "tests/support/test_client.h"

namespace reactord::testing {
namespace {

using common::ProxyHeaderParser;

// The first connection on `listener` within 10 s (the listener is blocking: poll first).
common::UniqueFd acceptOne(int listener) {
  pollfd ready{listener, POLLIN, 0};
  if (poll(&ready, 1, 10000) != 1) {
    return {};
  }
  return common::UniqueFd(accept4(listener, nullptr, nullptr, SOCK_CLOEXEC));
}

struct Received {
  ProxyHeaderParser parser;
  std::string after;  // the bytes after the header
};

// Reads from `fd` (whatever each recv returns) until the header is done and `data_bytes` followed.
Received readHeaderAndData(int fd, size_t data_bytes) {
  Received received;
  char buffer[4096];
  while (received.parser.status() != ProxyHeaderParser::Status::kError &&
         received.after.size() < data_bytes) {
    pollfd ready{fd, POLLIN, 0};
    if (poll(&ready, 1, 10000) != 1) {
      break;
    }
    const ssize_t n = recv(fd, buffer, sizeof buffer, 0);
    if (n <= 0) {
      break;
    }
    const auto step = received.parser.feed(buffer, static_cast<size_t>(n));
    if (step.status == ProxyHeaderParser::Status::kDone) {
      received.after.append(buffer + step.consumed, static_cast<size_t>(n) - step.consumed);
    }
  }
  return received;
}

TEST(HaproxyHeaderTest, ParserReadsWhatHaproxySendsForEachClientAddress) {
  if (HaproxyProcess::binary().empty()) {
    GTEST_SKIP() << "haproxy is not installed (deploy/install-deps.sh deploy)";
  }
  auto backend = common::openListenSocket(*common::SocketAddress::parse("127.0.0.1", 0), 64, false);
  ASSERT_TRUE(backend.fd.valid()) << backend.error;
  const uint16_t backend_port = common::SocketAddress::localOf(backend.fd.get())->port();
  HaproxyProcess haproxy(backend_port);
  ASSERT_TRUE(haproxy.started()) << haproxy.log();

  for (const int version : {1, 2}) {
    const uint16_t frontend = version == 1 ? haproxy.v1Port() : haproxy.v2Port();
    for (const std::string source : {"127.0.0.2", "127.0.0.3"}) {
      SCOPED_TRACE("v" + std::to_string(version) + " from " + source);
      auto client = TestClient::connect(frontend, "127.0.0.1", nullptr, source);
      ASSERT_TRUE(client);
      const std::string message = "hello from " + source;
      ASSERT_TRUE(client->sendAll(message));
      common::UniqueFd accepted = acceptOne(backend.fd.get());
      ASSERT_TRUE(accepted.valid()) << haproxy.log();
      const Received received = readHeaderAndData(accepted.get(), message.size());
      ASSERT_EQ(received.parser.status(), ProxyHeaderParser::Status::kDone)
          << common::proxyHeaderErrorName(received.parser.error());
      EXPECT_EQ(received.after, message);
      const common::ProxyHeader& header = received.parser.header();
      EXPECT_EQ(header.version, version);
      EXPECT_FALSE(header.local);
      ASSERT_TRUE(header.has_addresses);
      const auto client_address = common::SocketAddress::localOf(client->fd());
      EXPECT_EQ(common::SocketAddress::fromStorage(header.source).toString(),
                client_address->toString());
      EXPECT_EQ(common::SocketAddress::fromStorage(header.destination).toString(),
                "127.0.0.1:" + std::to_string(frontend));
      if (version == 2) {
        EXPECT_GT(header.length, 16u + 12u) << "HAProxy was asked for two TLVs";
      }
      // And the way back, through the balancer.
      ASSERT_EQ(send(accepted.get(), "pong", 4, MSG_NOSIGNAL), 4);
      EXPECT_EQ(client->readExactly(4), "pong");
    }
  }
}

}  // namespace
}  // namespace reactord::testing
