// --proxy_protocol on the real binary, with clients that send the headers themselves (what a
// balancer would): data after either header served intact, headers split across reads, refusals
// by reason (no header, malformed, too long, untrusted, timeout, gone), the per-address limit on
// the header's address, LOCAL and UNKNOWN on the socket's, and a drain with a header pending.
#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/proxy_header_writer.h"
#include "common/socket_address.h"
#include "common/wire_protocol.h"
#include "tests/support/http_client.h"
#include "tests/support/server_process.h"
#include "tests/support/test_client.h"

namespace reactord::testing {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::seconds;

common::SocketAddress at(const std::string& ip, uint16_t port) {
  return *common::SocketAddress::parse(ip, port);
}

// A v1 or v2 header that claims the client `ip` for a connection to the server on `port`.
std::string v1From(const std::string& ip, uint16_t port) {
  return common::proxyHeaderV1(at(ip, 40000), at("127.0.0.1", port));
}
std::string v2From(const std::string& ip, uint16_t port) {
  return common::proxyHeaderV2(at(ip, 40000), at("127.0.0.1", port),
                               common::proxyTlv(0x04, "") + common::proxyTlv(0xe0, "test"));
}

// Connects (from `source` when given) and sends `first` at once.
std::optional<TestClient> connectAndSend(uint16_t port, const std::string& first,
                                         const std::string& source = "") {
  auto client = TestClient::connect(port, "127.0.0.1", nullptr, source);
  if (client && !client->sendAll(first)) {
    return std::nullopt;
  }
  return client;
}

bool echoes(TestClient& client, const std::string& text) {
  return client.exchange(text, milliseconds(10000)) == text;
}

std::vector<std::string> flags(std::vector<std::string> more) {
  std::vector<std::string> all = {"--bind=127.0.0.1", "--proxy_protocol"};
  all.insert(all.end(), more.begin(), more.end());
  return all;
}

TEST(ProxyProtocolTest, EchoAfterEitherHeaderWithDataInTheSamePacket) {
  ServerProcess server(flags({"--workers=2"}));
  for (const std::string& header :
       {v1From("192.0.2.10", server.port()), v2From("2001:db8::10", server.port())}) {
    auto client = connectAndSend(server.port(), header + "hello");
    ASSERT_TRUE(client);
    EXPECT_EQ(client->readExactly(5), "hello");
    EXPECT_TRUE(echoes(*client, randomBytes(size_t{512} * 1024, 7))) << "the stream after it";
  }
  const auto counts = stopAndCountFinal(server);
  EXPECT_EQ(counts.at("proxy_accepted"), 2);
  EXPECT_EQ(counts.at("accepted"), 2);
  // bytes_in counts the clients' bytes, not the headers.
  EXPECT_EQ(counts.at("bytes_in"), 2 * (5 + 512 * 1024));
}

TEST(ProxyProtocolTest, AckAfterEitherHeaderWithAPartialLineInTheSamePacket) {
  ServerProcess server(flags({"--workers=1", "--protocol=ack"}));
  for (const std::string& header :
       {v1From("192.0.2.11", server.port()), v2From("192.0.2.12", server.port())}) {
    auto client = connectAndSend(server.port(), header + "one\ntwo\nthr");
    ASSERT_TRUE(client);
    ASSERT_TRUE(client->sendAll("ee\n"));
    std::string expected;
    for (int i = 0; i < 3; ++i) {
      expected += common::kAckReply;
    }
    EXPECT_EQ(client->readExactly(expected.size()), expected);
  }
  EXPECT_EQ(stopAndCountFinal(server).at("messages"), 6);
}

TEST(ProxyProtocolTest, AHeaderSplitIntoOneByteSendsWorks) {
  ServerProcess server(flags({"--workers=1"}));
  for (const std::string& header :
       {v1From("192.0.2.13", server.port()), v2From("192.0.2.14", server.port())}) {
    auto client = TestClient::connect(server.port());
    ASSERT_TRUE(client);
    for (const char byte : header) {
      ASSERT_TRUE(client->sendAll(std::string(1, byte)));
      // Paces the bytes so that the server reads them one by one; nothing is expected back.
      EXPECT_EQ(client->readFor(milliseconds(3)), "");
    }
    EXPECT_TRUE(echoes(*client, "after a trickled header"));
  }
  EXPECT_EQ(stopAndCountFinal(server).at("proxy_accepted"), 2);
}

TEST(ProxyProtocolTest, BadHeadersAreRefusedAtOnceByReasonAndOthersAreServed) {
  // A header timeout far above the test's bound for "at once": refusals may not wait for it.
  ServerProcess server(flags({"--workers=2", "--proxy_header_timeout_s=60", "--admin_port=-1"}));
  auto served = connectAndSend(server.port(), v2From("192.0.2.20", server.port()));
  ASSERT_TRUE(served);
  ASSERT_TRUE(echoes(*served, "before"));

  std::string too_long_v2 = std::string("\r\n\r\n\0\r\nQUIT\n\x21\x11", 14);
  too_long_v2 += std::string("\x0f\xa0", 2);  // 4000 bytes declared
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"GET / HTTP/1.0\r\n\r\n", "no header"},
      {"PROXY TCP4 192.0.2.1 192.0.2.2 1 65536\r\nhello", "port out of range"},
      {"PROXY TCP4 192.0.2.1 192.0.2.2 01 2\r\n", "leading zero"},
      {"PROXY UNKNOWN " + std::string(100, 'x'), "v1 without CRLF in 107 bytes"},
      {too_long_v2 + std::string(100, 'a'), "v2 length past the cap"},
  };
  for (const auto& [bytes, what] : bad) {
    const auto start = Clock::now();
    auto client = connectAndSend(server.port(), bytes);
    ASSERT_TRUE(client) << what;
    EXPECT_TRUE(client->closedWithoutReply()) << what;
    EXPECT_LT(Clock::now() - start, seconds(10)) << what << ": waited for the header timeout";
  }
  auto gone = connectAndSend(server.port(), "PROX");  // then closes
  ASSERT_TRUE(gone);
  gone.reset();
  EXPECT_TRUE(echoes(*served, "after")) << "another connection's failure must not touch this one";

  const uint16_t admin = adminPort(server);
  std::string metrics;
  for (const auto deadline = Clock::now() + seconds(10); Clock::now() < deadline;) {
    metrics = httpRequest(admin, "GET", "/metrics").body;
    if (metrics.find("reactord_proxy_rejected_total{reason=\"incomplete\"} 1") !=
        std::string::npos) {
      break;
    }
    std::this_thread::sleep_for(milliseconds(20));  // the close reaches the server soon
  }
  for (const char* sample :
       {"reactord_proxy_accepted_total 1", "reactord_proxy_rejected_total{reason=\"no_header\"} 1",
        "reactord_proxy_rejected_total{reason=\"malformed\"} 2",
        "reactord_proxy_rejected_total{reason=\"too_long\"} 2",
        "reactord_proxy_rejected_total{reason=\"incomplete\"} 1",
        "reactord_proxy_rejected_total{reason=\"untrusted\"} 0",
        "reactord_proxy_rejected_total{reason=\"timeout\"} 0"}) {
    EXPECT_NE(metrics.find(std::string(sample) + "\n"), std::string::npos) << sample << "\n"
                                                                           << metrics;
  }
  served.reset();
  const auto counts = stopAndCountFinal(server);
  EXPECT_EQ(counts.at("proxy_no_header"), 1);
  EXPECT_EQ(counts.at("proxy_malformed"), 2);
  EXPECT_EQ(counts.at("proxy_too_long"), 2);
  EXPECT_EQ(counts.at("proxy_incomplete"), 1);
  EXPECT_EQ(counts.at("accepted"), 1) << "refused connections are not taken into service";
}

TEST(ProxyProtocolTest, AHeaderTrickledOneBytePerSecondIsClosedAtTheTimeout) {
  ServerProcess server(flags({"--workers=1", "--proxy_header_timeout_s=2"}));
  const std::string header = v1From("192.0.2.30", server.port());
  auto slow = TestClient::connect(server.port());
  ASSERT_TRUE(slow);
  const auto start = Clock::now();
  size_t sent = 0;
  bool closed = false;
  while (!closed && sent < header.size()) {
    slow->sendAll(header.substr(sent++, 1));
    slow->readUntilClosed(milliseconds(1000), &closed);  // one byte a second, until closed
  }
  const double closed_after_s = std::chrono::duration<double>(Clock::now() - start).count();
  EXPECT_TRUE(closed);
  // 2 s, ticked 4 times a second; the upper bound leaves room for a loaded 2-core machine.
  EXPECT_GE(closed_after_s, 1.9);
  EXPECT_LE(closed_after_s, 5.0);
  EXPECT_LE(sent, 6u);
  // A header that takes a moment but less than the timeout is fine.
  auto brisk = TestClient::connect(server.port());
  ASSERT_TRUE(brisk);
  for (const char byte : header) {
    brisk->sendAll(std::string(1, byte));
    EXPECT_EQ(brisk->readFor(milliseconds(10)), "");
  }
  EXPECT_TRUE(echoes(*brisk, "in time"));
  brisk.reset();
  const auto counts = stopAndCountFinal(server);
  EXPECT_EQ(counts.at("proxy_timeout"), 1);
  EXPECT_EQ(counts.at("proxy_accepted"), 1);
}

// Connections waiting for their header hold a --max_connections slot each: however many a client
// opens, the server holds no more of them than that, and each no longer than the header timeout.
TEST(ProxyProtocolTest, PendingHeadersCountAgainstMaxConnectionsUntilTheirTimeout) {
  constexpr int kLimit = 4;
  ServerProcess server(flags({"--workers=2", "--max_connections=" + std::to_string(kLimit),
                              "--proxy_header_timeout_s=2"}));
  const int baseline_fds = server.fdCount();
  std::vector<TestClient> pending;
  for (int i = 0; i < kLimit; ++i) {
    auto client = connectAndSend(server.port(), "PROXY");
    ASSERT_TRUE(client);
    pending.push_back(std::move(*client));
  }
  // Each takes its slot when accepted: wait until the server holds all four sockets.
  const auto deadline = Clock::now() + seconds(10);
  while (server.fdCount() < baseline_fds + kLimit && Clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(5));
  }
  ASSERT_EQ(server.fdCount(), baseline_fds + kLimit);
  auto one_more = connectAndSend(server.port(), v1From("192.0.2.70", server.port()) + "x");
  ASSERT_TRUE(one_more);
  EXPECT_TRUE(one_more->closedWithoutReply()) << "a fifth connection got a slot";
  for (auto& client : pending) {
    EXPECT_TRUE(client.closedWithoutReply(milliseconds(10000))) << "not closed at the timeout";
  }
  // The slots are free again.
  auto later = connectAndSend(server.port(), v1From("192.0.2.71", server.port()));
  ASSERT_TRUE(later);
  EXPECT_TRUE(echoes(*later, "a slot again"));
  later.reset();
  const auto counts = stopAndCountFinal(server);
  EXPECT_EQ(counts.at("rejected"), 1);
  EXPECT_EQ(counts.at("proxy_timeout"), kLimit);
  EXPECT_EQ(counts.at("proxy_accepted"), 1);
}

TEST(ProxyProtocolTest, HeadersFromUntrustedSourcesAreRefused) {
  ServerProcess server(flags({"--workers=2", "--proxy_protocol_from=127.0.0.2/32,::1"}));
  auto untrusted = connectAndSend(server.port(), v2From("192.0.2.40", server.port()) + "data");
  ASSERT_TRUE(untrusted);
  EXPECT_TRUE(untrusted->closedWithoutReply());
  auto trusted =
      connectAndSend(server.port(), v2From("192.0.2.40", server.port()) + "data", "127.0.0.2");
  ASSERT_TRUE(trusted) << "cannot bind 127.0.0.2";
  EXPECT_EQ(trusted->readExactly(4), "data");
  trusted.reset();
  const auto counts = stopAndCountFinal(server);
  EXPECT_EQ(counts.at("proxy_untrusted"), 1);
  EXPECT_EQ(counts.at("proxy_accepted"), 1);
}

TEST(ProxyProtocolTest, PerAddressLimitCountsTheAddressInTheHeader) {
  ServerProcess server(flags({"--workers=2", "--max_connections_per_ip=2", "--v=1"}));
  std::vector<TestClient> held;
  for (const std::string& header :
       {v1From("198.51.100.1", server.port()), v2From("198.51.100.1", server.port())}) {
    auto client = connectAndSend(server.port(), header);
    ASSERT_TRUE(client);
    ASSERT_TRUE(echoes(*client, "mine"));
    held.push_back(std::move(*client));
  }
  // Every socket comes from 127.0.0.1: only the headers tell the clients apart.
  auto third = connectAndSend(server.port(), v2From("198.51.100.1", server.port()) + "x");
  ASSERT_TRUE(third);
  EXPECT_TRUE(third->closedWithoutReply());
  for (const char* other : {"198.51.100.2", "2001:db8::1", "::ffff:198.51.100.3"}) {
    auto client = connectAndSend(server.port(), v2From(other, server.port()));
    ASSERT_TRUE(client);
    EXPECT_TRUE(echoes(*client, "another client")) << other;
    held.push_back(std::move(*client));
  }
  // The IPv4-mapped form is the same client as the IPv4 one.
  auto mapped = connectAndSend(server.port(), v1From("::ffff:198.51.100.1", server.port()) + "y");
  ASSERT_TRUE(mapped);
  EXPECT_TRUE(mapped->closedWithoutReply());
  held.clear();
  const auto counts = stopAndCountFinal(server);
  EXPECT_EQ(counts.at("per_ip_rejected"), 2);
  EXPECT_EQ(counts.at("accepted"), 5);
  EXPECT_EQ(counts.at("proxy_accepted"), 7);
  // The --v=1 line of the refusal names the client of the header, not the balancer.
  EXPECT_NE(server.log().find("198.51.100.1:40000"), std::string::npos) << server.log();
}

TEST(ProxyProtocolTest, LocalAndUnknownHeadersKeepTheSocketsAddress) {
  ServerProcess server(flags({"--workers=1", "--max_connections_per_ip=1"}));
  auto local = connectAndSend(server.port(), common::proxyHeaderV2Local());
  ASSERT_TRUE(local);
  ASSERT_TRUE(echoes(*local, "health check"));
  // 127.0.0.1, the socket's address, is taken by the LOCAL connection.
  auto unknown = connectAndSend(server.port(), common::proxyHeaderV1Unknown() + "x");
  ASSERT_TRUE(unknown);
  EXPECT_TRUE(unknown->closedWithoutReply());
  auto named = connectAndSend(server.port(), v1From("10.1.1.1", server.port()));
  ASSERT_TRUE(named);
  EXPECT_TRUE(echoes(*named, "a client named by its header"));
  local.reset();
  named.reset();
  const auto counts = stopAndCountFinal(server);
  EXPECT_EQ(counts.at("per_ip_rejected"), 1);
  EXPECT_EQ(counts.at("proxy_accepted"), 3);
}

TEST(ProxyProtocolTest, TheBytesAfterTheHeaderAreTheFirstRead) {
  ServerProcess oneshot(flags({"--workers=1", "--oneshot"}));
  auto client = connectAndSend(oneshot.port(), v1From("192.0.2.50", oneshot.port()) + "only this");
  ASSERT_TRUE(client);
  bool closed = false;
  EXPECT_EQ(client->readUntilClosed(milliseconds(10000), &closed), "only this");
  EXPECT_TRUE(closed);

  ServerProcess ack(flags({"--workers=1", "--protocol=ack", "--max_message_bytes=8"}));
  auto long_line =
      connectAndSend(ack.port(), v2From("192.0.2.51", ack.port()) + "ok\n0123456789\n");
  ASSERT_TRUE(long_line);
  EXPECT_EQ(long_line->readUntilClosed(milliseconds(10000), &closed),
            std::string(common::kAckReply) + std::string(common::kTooLongReply));
  EXPECT_TRUE(closed);
}

TEST(ProxyProtocolTest, DrainWaitsForAPendingHeaderNoLongerThanItsTimeout) {
  ServerProcess server(
      flags({"--workers=1", "--proxy_header_timeout_s=1", "--drain_timeout_s=20"}));
  auto pending = connectAndSend(server.port(), "PROXY TCP4 ");
  ASSERT_TRUE(pending);
  EXPECT_EQ(pending->readFor(milliseconds(100)), "");
  const auto start = Clock::now();
  const auto counts = stopAndCountFinal(server);
  EXPECT_LT(Clock::now() - start, seconds(10)) << "the drain waited for more than the header";
  EXPECT_EQ(counts.at("proxy_timeout"), 1);
  EXPECT_EQ(counts.at("forced_closed"), 0);
}

TEST(ProxyProtocolTest, WithTheFlagOffAHeaderIsJustBytes) {
  ServerProcess server({"--bind=127.0.0.1", "--workers=1"});
  const std::string header = v2From("192.0.2.60", server.port());
  auto client = TestClient::connect(server.port());
  ASSERT_TRUE(client);
  EXPECT_TRUE(echoes(*client, header + "data"));
  client.reset();
  EXPECT_EQ(stopAndCountFinal(server).at("proxy_accepted"), 0);
}

}  // namespace
}  // namespace reactord::testing
