// A real HAProxy in front, sending PROXY headers (send-proxy, and send-proxy-v2 with a CRC32C and a
// unique-id TLV), with clients bound to 127.0.0.2 and 127.0.0.3: first the parser alone against
// what HAProxy sends, then reactord --proxy_protocol behind it: the per-client limit counts the
// clients, not the balancer, and echo and ack data pass intact. Skipped when haproxy is not
// installed.
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>

#include <cstdio>
#include <string>
#include <vector>

#include "common/listen_socket.h"
#include "common/proxy_header_parser.h"
#include "common/socket_address.h"
#include "common/wire_protocol.h"
#include "tests/support/haproxy_process.h"
#include "tests/support/server_process.h"
#include "tests/support/test_client.h"

namespace reactord::testing {
namespace {

using common::ProxyHeaderParser;

constexpr const char* kNoHaproxy = "haproxy is not installed (deploy/install-deps.sh deploy)";

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

TEST(HaproxyTest, ParserReadsWhatHaproxySendsForEachClientAddress) {
  if (HaproxyProcess::binary().empty()) {
    GTEST_SKIP() << kNoHaproxy;
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
      EXPECT_EQ(common::SocketAddress::of(header.source).toString(), client_address->toString());
      EXPECT_EQ(common::SocketAddress::of(header.destination).toString(),
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

// --max_connections_per_ip=K behind HAProxy, once per header version: K clients from 127.0.0.2
// are served, the next one from 127.0.0.2 is refused (closed without a byte) while 127.0.0.3 is
// served and the K keep working. Every socket reactord sees comes from HAProxy's 127.0.0.1.
TEST(HaproxyTest, PerClientLimitCountsTheClientsBehindTheBalancer) {
  if (HaproxyProcess::binary().empty()) {
    GTEST_SKIP() << kNoHaproxy;
  }
  constexpr int kLimit = 3;
  for (const int version : {1, 2}) {
    SCOPED_TRACE("send-proxy v" + std::to_string(version));
    ServerProcess server({"--bind=127.0.0.1", "--workers=2", "--proxy_protocol",
                          "--max_connections_per_ip=" + std::to_string(kLimit)});
    int served_first = 0;
    bool next_refused = false;
    bool other_served = false;
    {
      HaproxyProcess haproxy(server.port());
      ASSERT_TRUE(haproxy.started()) << haproxy.log();
      const uint16_t frontend = version == 1 ? haproxy.v1Port() : haproxy.v2Port();
      std::vector<TestClient> first;
      for (int i = 0; i < kLimit; ++i) {
        auto client = TestClient::connect(frontend, "127.0.0.1", nullptr, "127.0.0.2");
        ASSERT_TRUE(client);
        const std::string text = "client " + std::to_string(i) + " of 127.0.0.2";
        ASSERT_EQ(client->exchange(text), text) << haproxy.log();
        first.push_back(std::move(*client));
        ++served_first;
      }
      auto next = TestClient::connect(frontend, "127.0.0.1", nullptr, "127.0.0.2");
      ASSERT_TRUE(next);
      next->sendAll("one too many");
      next_refused = next->closedWithoutReply();
      EXPECT_TRUE(next_refused);
      auto other = TestClient::connect(frontend, "127.0.0.1", nullptr, "127.0.0.3");
      ASSERT_TRUE(other);
      const std::string stream = randomBytes(size_t{1} << 20, version);
      other_served = other->exchange(stream) == stream;
      EXPECT_TRUE(other_served) << "1 MiB through the balancer, intact";
      for (TestClient& client : first) {
        EXPECT_EQ(client.exchange("still here"), "still here");
      }
    }
    const auto counts = stopAndCountFinal(server);
    EXPECT_EQ(counts.at("per_ip_rejected"), 1);
    EXPECT_EQ(counts.at("accepted"), kLimit + 1);
    EXPECT_EQ(counts.at("proxy_accepted"), kLimit + 2);
    EXPECT_EQ(counts.at("proxy_untrusted") + counts.at("proxy_no_header") +
                  counts.at("proxy_malformed") + counts.at("proxy_too_long") +
                  counts.at("proxy_timeout") + counts.at("proxy_incomplete"),
              0);
    std::printf(
        "[ figure ] HAProxy send-proxy%s, --max_connections_per_ip=%d: %d of 127.0.0.2 served, "
        "the next %s, 127.0.0.3 %s; reactord's final line: proxy_accepted=%ld accepted=%ld "
        "per_ip_rejected=%ld\n",
        version == 1 ? "" : "-v2", kLimit, served_first,
        next_refused ? "refused without a reply" : "SERVED", other_served ? "served" : "NOT served",
        counts.at("proxy_accepted"), counts.at("accepted"), counts.at("per_ip_rejected"));
  }
}

TEST(HaproxyTest, AckRepliesComeBackIntactThroughTheBalancer) {
  if (HaproxyProcess::binary().empty()) {
    GTEST_SKIP() << kNoHaproxy;
  }
  constexpr int kLines = 2000;
  ServerProcess server({"--bind=127.0.0.1", "--workers=2", "--proxy_protocol", "--protocol=ack"});
  {
    HaproxyProcess haproxy(server.port());
    ASSERT_TRUE(haproxy.started()) << haproxy.log();
    std::string lines;
    std::string replies;
    for (int i = 0; i < kLines; ++i) {
      lines += "message " + std::to_string(i) + "\n";
      replies += common::kAckReply;
    }
    for (const uint16_t frontend : {haproxy.v1Port(), haproxy.v2Port()}) {
      auto client = TestClient::connect(frontend, "127.0.0.1", nullptr, "127.0.0.3");
      ASSERT_TRUE(client);
      ASSERT_TRUE(client->sendAll(lines));
      EXPECT_EQ(client->readExactly(replies.size()), replies);
    }
  }
  const auto counts = stopAndCountFinal(server);
  EXPECT_EQ(counts.at("messages"), 2 * kLines);
  EXPECT_EQ(counts.at("proxy_accepted"), 2);
}

}  // namespace
}  // namespace reactord::testing
