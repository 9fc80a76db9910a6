#include "common/cidr_list.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "common/socket_address.h"

namespace reactord::common {
namespace {

sockaddr_storage address(const std::string& ip) {
  const auto parsed = SocketAddress::parse(ip, 1234);
  EXPECT_TRUE(parsed) << ip;
  sockaddr_storage storage{};
  std::memcpy(&storage, parsed->get(), parsed->length());
  return storage;
}

CidrList list(const std::string& text) {
  std::string error;
  const auto parsed = CidrList::parse(text, &error);
  EXPECT_TRUE(parsed) << text << ": " << error;
  return parsed.value_or(*CidrList::parse("192.0.2.0/32", &error));
}

std::string refusal(const std::string& text) {
  std::string error;
  EXPECT_FALSE(CidrList::parse(text, &error)) << text;
  return error;
}

TEST(CidrListTest, Ipv4NetworksMatchTheirAddressesOnly) {
  const CidrList trusted = list("10.0.0.0/8,192.168.1.0/24,203.0.113.7");
  EXPECT_EQ(trusted.size(), 3u);
  EXPECT_TRUE(trusted.contains(address("10.0.0.0")));
  EXPECT_TRUE(trusted.contains(address("10.255.255.255")));
  EXPECT_FALSE(trusted.contains(address("11.0.0.0")));
  EXPECT_FALSE(trusted.contains(address("9.255.255.255")));
  EXPECT_TRUE(trusted.contains(address("192.168.1.77")));
  EXPECT_FALSE(trusted.contains(address("192.168.2.1")));
  EXPECT_TRUE(trusted.contains(address("203.0.113.7")));
  EXPECT_FALSE(trusted.contains(address("203.0.113.8")));
}

TEST(CidrListTest, PrefixesThatAreNotWholeBytes) {
  const CidrList trusted = list("172.16.0.0/12,fc00::/7");
  EXPECT_TRUE(trusted.contains(address("172.16.0.1")));
  EXPECT_TRUE(trusted.contains(address("172.31.255.255")));
  EXPECT_FALSE(trusted.contains(address("172.32.0.0")));
  EXPECT_FALSE(trusted.contains(address("172.15.255.255")));
  EXPECT_TRUE(trusted.contains(address("fc00::1")));
  EXPECT_TRUE(trusted.contains(address("fdff:ffff::1")));
  EXPECT_FALSE(trusted.contains(address("fe00::1")));
  EXPECT_FALSE(trusted.contains(address("fbff::1")));
}

TEST(CidrListTest, Ipv4MappedPeersMatchIpv4Entries) {
  const CidrList trusted = list("127.0.0.0/8");
  EXPECT_TRUE(trusted.contains(address("::ffff:127.0.0.2")));
  EXPECT_FALSE(trusted.contains(address("::ffff:128.0.0.1")));
  EXPECT_FALSE(trusted.contains(address("::1")));
  EXPECT_FALSE(trusted.contains(address("::127.0.0.1")));  // IPv4-compatible is not mapped
}

TEST(CidrListTest, Ipv6EntriesAndEverything) {
  const CidrList loopback6 = list("::1/128");
  EXPECT_TRUE(loopback6.contains(address("::1")));
  EXPECT_FALSE(loopback6.contains(address("127.0.0.1")));
  const CidrList everyone = list("0.0.0.0/0, ::/0");
  EXPECT_TRUE(everyone.contains(address("198.51.100.1")));
  EXPECT_TRUE(everyone.contains(address("2001:db8::1")));
  const CidrList ipv4_only = list("0.0.0.0/0");
  EXPECT_TRUE(ipv4_only.contains(address("::ffff:198.51.100.1")));
  EXPECT_FALSE(ipv4_only.contains(address("2001:db8::1")));
}

TEST(CidrListTest, TheDefaultIsLoopbackAndPrivateRanges) {
  const CidrList trusted = list(std::string(kPrivateAndLoopbackCidrs));
  for (const char* inside : {"127.0.0.1", "127.0.0.3", "::1", "10.1.2.3", "172.20.0.2",
                             "192.168.0.10", "fd12:3456::1", "::ffff:10.0.0.1"}) {
    EXPECT_TRUE(trusted.contains(address(inside))) << inside;
  }
  for (const char* outside :
       {"8.8.8.8", "172.32.0.1", "192.169.0.1", "100.64.0.1", "2001:db8::1", "fe80::1", "::"}) {
    EXPECT_FALSE(trusted.contains(address(outside))) << outside;
  }
}

TEST(CidrListTest, OtherFamiliesNeverMatch) {
  sockaddr_storage unix_address{};
  unix_address.ss_family = AF_UNIX;
  EXPECT_FALSE(list("0.0.0.0/0,::/0").contains(unix_address));
}

TEST(CidrListTest, TextIsTheEntriesWithoutSpaces) {
  EXPECT_EQ(list(" 10.0.0.0/8 ,::1 ").text(), "10.0.0.0/8,::1");
}

TEST(CidrListTest, RefusesWhatIsNotAList) {
  EXPECT_NE(refusal("").find("0.0.0.0/0,::/0"), std::string::npos);
  refusal("10.0.0.0/8,");
  refusal(",10.0.0.0/8");
  refusal("10.0.0.0/8,,::1");
  EXPECT_NE(refusal("localhost").find("not an IPv4 or IPv6"), std::string::npos);
  refusal("10.0.0.0/");
  refusal("10.0.0.0/33");
  refusal("::/129");
  refusal("10.0.0.0/08");
  refusal("10.0.0.0/-8");
  refusal("10.0.0.0/8/8");
  refusal("10.0.0.0 /8");
  refusal("010.0.0.0/8");
  refusal("fe80::1%lo");
  EXPECT_NE(refusal("10.1.0.0/8").find("past its prefix"), std::string::npos);
  refusal("fc00::1/7");
}

}  // namespace
}  // namespace reactord::common
