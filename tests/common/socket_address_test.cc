#include "common/socket_address.h"

#include <gtest/gtest.h>

namespace reactord::common {
namespace {

TEST(SocketAddressTest, ParsesAndFormatsBothFamilies) {
  auto v4 = SocketAddress::parse("127.0.0.1", 7000);
  ASSERT_TRUE(v4.has_value());
  EXPECT_EQ(v4->family(), AF_INET);
  EXPECT_EQ(v4->toString(), "127.0.0.1:7000");
  auto v6 = SocketAddress::parse("::1", 80);
  ASSERT_TRUE(v6.has_value());
  EXPECT_EQ(v6->family(), AF_INET6);
  EXPECT_EQ(v6->toString(), "[::1]:80");
  EXPECT_FALSE(v6->isIpv6Any());
  EXPECT_TRUE(SocketAddress::parse("::", 0)->isIpv6Any());
}

TEST(SocketAddressTest, RejectsNamesAndGarbage) {
  EXPECT_FALSE(SocketAddress::parse("localhost", 1).has_value());
  EXPECT_FALSE(SocketAddress::parse("1.2.3.4.5", 1).has_value());
  EXPECT_FALSE(SocketAddress::parse("", 1).has_value());
}

TEST(SocketAddressTest, SetPortKeepsTheAddress) {
  auto address = SocketAddress::parse("10.1.2.3", 1);
  address->setPort(65535);
  EXPECT_EQ(address->toString(), "10.1.2.3:65535");
}

TEST(SocketAddressTest, MulticastInBothFamiliesAndAsMappedIpv4) {
  for (const char* ip :
       {"224.0.0.1", "239.255.255.250", "ff02::1", "ff05::1:3", "::ffff:224.1.2.3"}) {
    EXPECT_TRUE(SocketAddress::parse(ip, 0)->isMulticast()) << ip;
  }
  for (const char* ip : {"223.255.255.255", "240.0.0.1", "127.0.0.1", "::1", "fe80::1", "::"}) {
    EXPECT_FALSE(SocketAddress::parse(ip, 0)->isMulticast()) << ip;
  }
}

TEST(SocketAddressTest, Ipv4FromBothForms) {
  EXPECT_EQ(SocketAddress::parse("10.1.2.3", 0)->ipv4(), 0x0a010203u);
  EXPECT_EQ(SocketAddress::parse("::ffff:10.1.2.3", 0)->ipv4(), 0x0a010203u);
  EXPECT_FALSE(SocketAddress::parse("::1", 0)->ipv4().has_value());
}

}  // namespace
}  // namespace reactord::common
