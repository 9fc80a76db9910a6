// The --proxy_header/--proxy_source option of both client tools: parsing, and the header it
// builds for a real loopback connection.
#include "client/shared/proxy_header_option.h"

#include <gtest/gtest.h>
#include <sys/socket.h>

#include <string>

#include "common/listen_socket.h"
#include "common/proxy_header_writer.h"
#include "common/socket_address.h"
#include "common/unique_fd.h"

namespace reactord::client {
namespace {

TEST(ProxyHeaderOptionTest, KindsByName) {
  EXPECT_EQ(parseProxyHeaderKind("none"), ProxyHeaderKind::kNone);
  EXPECT_EQ(parseProxyHeaderKind("v1"), ProxyHeaderKind::kV1);
  EXPECT_EQ(parseProxyHeaderKind("v2"), ProxyHeaderKind::kV2);
  EXPECT_EQ(parseProxyHeaderKind("v2-local"), ProxyHeaderKind::kV2Local);
  EXPECT_EQ(parseProxyHeaderKind("V1"), std::nullopt);
  EXPECT_EQ(parseProxyHeaderKind(""), std::nullopt);
}

TEST(ProxyHeaderOptionTest, SourceIsEmptyOrNumeric) {
  std::optional<common::SocketAddress> source = common::SocketAddress::parse("192.0.2.1", 0);
  std::string error;
  EXPECT_TRUE(parseProxySource("", &source, &error));
  EXPECT_FALSE(source.has_value());
  ASSERT_TRUE(parseProxySource("2001:db8::9", &source, &error));
  ASSERT_TRUE(source.has_value());
  EXPECT_EQ(source->ipString(), "2001:db8::9");
  EXPECT_FALSE(parseProxySource("example.com", &source, &error));
  EXPECT_FALSE(source.has_value());
  EXPECT_NE(error.find("example.com"), std::string::npos) << error;
}

// A connected loopback socket (the listener keeps the accept queue; nothing is accepted).
struct LoopbackPair {
  common::ListenResult listener =
      common::openListenSocket(*common::SocketAddress::parse("127.0.0.1", 0), 4, false);
  common::UniqueFd client{::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)};

  LoopbackPair() {
    const auto address = common::SocketAddress::localOf(listener.fd.get());
    EXPECT_TRUE(address.has_value());
    EXPECT_EQ(::connect(client.get(), address->get(), address->length()), 0);
  }
};

TEST(ProxyHeaderOptionTest, HeaderNamesTheConnectionOrTheGivenSource) {
  LoopbackPair pair;
  const auto local = common::SocketAddress::localOf(pair.client.get());
  const auto peer = common::SocketAddress::peerOf(pair.client.get());
  ASSERT_TRUE(local && peer);

  ProxyHeaderOption option;
  EXPECT_EQ(option.headerFor(pair.client.get()), std::string());

  option.kind = ProxyHeaderKind::kV1;
  EXPECT_EQ(option.headerFor(pair.client.get()), "PROXY TCP4 127.0.0.1 127.0.0.1 " +
                                                     std::to_string(local->port()) + " " +
                                                     std::to_string(peer->port()) + "\r\n");

  // The given source keeps the connection's own port.
  option.source = common::SocketAddress::parse("203.0.113.9", 0);
  option.kind = ProxyHeaderKind::kV2;
  common::SocketAddress claimed = *common::SocketAddress::parse("203.0.113.9", local->port());
  EXPECT_EQ(option.headerFor(pair.client.get()), common::proxyHeaderV2(claimed, *peer));

  option.kind = ProxyHeaderKind::kV2Local;
  EXPECT_EQ(option.headerFor(pair.client.get()), common::proxyHeaderV2Local());
}

TEST(ProxyHeaderOptionTest, NoHeaderForASocketThatIsNotConnected) {
  common::UniqueFd unconnected(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  ProxyHeaderOption option;
  option.kind = ProxyHeaderKind::kV1;
  EXPECT_EQ(option.headerFor(unconnected.get()), std::nullopt);
}

}  // namespace
}  // namespace reactord::client
