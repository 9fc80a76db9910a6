#include "common/proxy_header_writer.h"

#include <gtest/gtest.h>

#include <string>

#include "common/proxy_header_parser.h"

namespace reactord::common {
namespace {

SocketAddress at(const std::string& ip, uint16_t port) { return *SocketAddress::parse(ip, port); }

ProxyHeader parseWhole(const std::string& header) {
  ProxyHeaderParser parser;
  const auto step = parser.feed(header.data(), header.size());
  EXPECT_EQ(step.status, ProxyHeaderParser::Status::kDone) << testing::PrintToString(header);
  EXPECT_EQ(step.consumed, header.size());
  return parser.header();
}

std::string source(const ProxyHeader& header) {
  return SocketAddress::of(header.source).toString();
}

TEST(ProxyHeaderWriterTest, V1IsTheSpecificationsLine) {
  EXPECT_EQ(proxyHeaderV1(at("192.168.0.1", 56324), at("192.168.0.11", 443)),
            "PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n");
  EXPECT_EQ(proxyHeaderV1(at("2001:db8::1", 1), at("::1", 2)),
            "PROXY TCP6 2001:db8::1 ::1 1 2\r\n");
  EXPECT_EQ(proxyHeaderV1(at("127.0.0.2", 1), at("::1", 2)),
            "PROXY TCP6 ::ffff:127.0.0.2 ::1 1 2\r\n");
  EXPECT_EQ(proxyHeaderV1Unknown(), "PROXY UNKNOWN\r\n");
}

TEST(ProxyHeaderWriterTest, V2BytesAreTheSpecifications) {
  const std::string header = proxyHeaderV2(at("127.0.0.2", 0x1234), at("127.0.0.1", 7000));
  const std::string expected = std::string("\r\n\r\n\0\r\nQUIT\n", 12) +
                               std::string(
                                   "\x21\x11\x00\x0c\x7f\x00\x00\x02\x7f\x00\x00\x01"
                                   "\x12\x34\x1b\x58",
                                   16);
  EXPECT_EQ(header, expected);
  EXPECT_EQ(proxyHeaderV2Local(), std::string("\r\n\r\n\0\r\nQUIT\n\x20\x00\x00\x00", 16));
  EXPECT_EQ(proxyTlv(0x01, "h2"), std::string("\x01\x00\x02h2", 5));
}

TEST(ProxyHeaderWriterTest, EveryHeaderWrittenParsesBack) {
  EXPECT_EQ(source(parseWhole(proxyHeaderV1(at("10.0.0.1", 5), at("10.0.0.2", 6)))), "10.0.0.1:5");
  EXPECT_EQ(source(parseWhole(proxyHeaderV1(at("2001:db8::7", 5), at("::1", 6)))),
            "[2001:db8::7]:5");
  EXPECT_EQ(source(parseWhole(proxyHeaderV2(at("10.0.0.1", 5), at("10.0.0.2", 6)))), "10.0.0.1:5");
  EXPECT_EQ(source(parseWhole(proxyHeaderV2(at("2001:db8::7", 65535), at("127.0.0.1", 6),
                                            proxyTlv(0x04, "") + proxyTlv(0xe0, "app")))),
            "[2001:db8::7]:65535");
  EXPECT_FALSE(parseWhole(proxyHeaderV1Unknown()).has_addresses);
  const ProxyHeader local = parseWhole(proxyHeaderV2Local());
  EXPECT_TRUE(local.local);
  EXPECT_FALSE(local.has_addresses);
}

}  // namespace
}  // namespace reactord::common
