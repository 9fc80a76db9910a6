#include "common/proxy_header_parser.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <vector>

#include "common/socket_address.h"

namespace reactord::common {
namespace {

using Status = ProxyHeaderParser::Status;
using Error = ProxyHeaderError;

}  // namespace

// Errors print by name in failure messages.
void PrintTo(ProxyHeaderError error, std::ostream* out) { *out << proxyHeaderErrorName(error); }

namespace {

const std::string kSignature(kProxyV2Signature);

// A v2 header written out byte by byte (independent of proxy_header_writer): the signature, the
// version/command and family/transport bytes, the length of `body`, then `body`.
std::string v2(uint8_t version_command, uint8_t family_transport, const std::string& body) {
  std::string header = kSignature;
  header.push_back(static_cast<char>(version_command));
  header.push_back(static_cast<char>(family_transport));
  header.push_back(static_cast<char>(body.size() >> 8));
  header.push_back(static_cast<char>(body.size() & 0xff));
  return header + body;
}

std::string bytes(std::initializer_list<int> values) {
  std::string out;
  for (const int value : values) {
    out.push_back(static_cast<char>(value));
  }
  return out;
}

// 192.0.2.1:56324 -> 198.51.100.7:443 as a v2 IPv4 address block.
const std::string kInetBlock = bytes({192, 0, 2, 1, 198, 51, 100, 7, 0xdc, 0x04, 0x01, 0xbb});
// [2001:db8::1]:1 -> [2001:db8::2]:65535 as a v2 IPv6 address block.
const std::string kInet6Block =
    bytes({0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,  //
           0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2,  //
           0x00, 0x01, 0xff, 0xff});

std::string tlv(uint8_t type, const std::string& value) {
  return bytes({type, static_cast<int>(value.size() >> 8), static_cast<int>(value.size() & 0xff)}) +
         value;
}

struct Outcome {
  Status status = Status::kNeedMore;
  size_t consumed = 0;  // bytes of the input taken as header
  ProxyHeader header;
  Error error = Error::kNone;
};

// Feeds `input` whole.
Outcome parse(const std::string& input) {
  ProxyHeaderParser parser;
  const ProxyHeaderParser::Step step = parser.feed(input.data(), input.size());
  EXPECT_EQ(step.status, parser.status());
  return {step.status, step.consumed, parser.header(), parser.error()};
}

// Feeds `input` one byte at a time until the parser is done or fails.
Outcome parseByteByByte(const std::string& input) {
  ProxyHeaderParser parser;
  size_t consumed = 0;
  for (size_t i = 0; i < input.size() && parser.status() == Status::kNeedMore; ++i) {
    const ProxyHeaderParser::Step step = parser.feed(&input[i], 1);
    EXPECT_LE(step.consumed, 1u);
    consumed += step.consumed;
  }
  return {parser.status(), consumed, parser.header(), parser.error()};
}

std::string addressText(const sockaddr_storage& address) {
  return SocketAddress::of(address).toString();
}

void expectError(const std::string& input, Error error) {
  SCOPED_TRACE(testing::PrintToString(input));
  const Outcome whole = parse(input);
  EXPECT_EQ(whole.status, Status::kError);
  EXPECT_EQ(whole.error, error);
  const Outcome single = parseByteByByte(input);
  EXPECT_EQ(single.status, Status::kError);
  EXPECT_EQ(single.error, error);
}

// The headers every split test runs over: each version and family.
std::vector<std::string> validHeaders() {
  return {
      "PROXY TCP4 192.0.2.1 198.51.100.7 56324 443\r\n",
      "PROXY TCP6 2001:db8::1 2001:db8::2 1 65535\r\n",
      "PROXY UNKNOWN\r\n",
      "PROXY UNKNOWN ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff "
      "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n",
      v2(0x21, 0x11, kInetBlock),
      v2(0x21, 0x21, kInet6Block),
      v2(0x20, 0x00, ""),
      v2(0x21, 0x11, kInetBlock + tlv(0x01, "h2") + tlv(0x04, "") + tlv(0xea, "vpce-0123")),
      v2(0x21, 0x31, std::string(216, 'u')),
  };
}

TEST(ProxyHeaderParserTest, V1Tcp4GivesTheClientsAddress) {
  const std::string header = "PROXY TCP4 192.0.2.1 198.51.100.7 56324 443\r\n";
  const Outcome outcome = parse(header);
  ASSERT_EQ(outcome.status, Status::kDone);
  EXPECT_EQ(outcome.consumed, header.size());
  EXPECT_EQ(outcome.header.version, 1);
  EXPECT_FALSE(outcome.header.local);
  ASSERT_TRUE(outcome.header.has_addresses);
  EXPECT_EQ(addressText(outcome.header.source), "192.0.2.1:56324");
  EXPECT_EQ(addressText(outcome.header.destination), "198.51.100.7:443");
  EXPECT_EQ(outcome.header.length, header.size());
}

TEST(ProxyHeaderParserTest, V1Tcp6GivesTheClientsAddress) {
  const Outcome outcome = parse("PROXY TCP6 2001:DB8::1 2001:db8::2 1 65535\r\n");
  ASSERT_EQ(outcome.status, Status::kDone);
  ASSERT_TRUE(outcome.header.has_addresses);
  EXPECT_EQ(addressText(outcome.header.source), "[2001:db8::1]:1");
  EXPECT_EQ(addressText(outcome.header.destination), "[2001:db8::2]:65535");
  // What inet_ntop writes for an IPv4-mapped client (HAProxy on a dual-stack frontend).
  const Outcome mapped = parse("PROXY TCP6 ::ffff:192.0.2.1 ::1 0 7000\r\n");
  ASSERT_EQ(mapped.status, Status::kDone);
  EXPECT_EQ(addressText(mapped.header.source), "[::ffff:192.0.2.1]:0");
}

TEST(ProxyHeaderParserTest, V1LongestLinesFitIn107Bytes) {
  const std::string full = "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff";
  const std::string tcp6 = "PROXY TCP6 " + full + " " + full + " 65535 65535\r\n";
  EXPECT_EQ(tcp6.size(), 104u);
  EXPECT_EQ(parse(tcp6).status, Status::kDone);
  const std::string unknown = "PROXY UNKNOWN " + full + " " + full + " 65535 65535\r\n";
  ASSERT_EQ(unknown.size(), kProxyV1MaxBytes);
  const Outcome outcome = parse(unknown);
  EXPECT_EQ(outcome.status, Status::kDone);
  EXPECT_EQ(outcome.consumed, kProxyV1MaxBytes);
}

TEST(ProxyHeaderParserTest, V1UnknownKeepsTheSocketsAddressAndIgnoresTheRest) {
  for (const std::string header :
       {"PROXY UNKNOWN\r\n", "PROXY UNKNOWN 1.2.3.4 what ever\r\n", "PROXY UNKNOWN \x01\xff\r\n"}) {
    SCOPED_TRACE(header);
    const Outcome outcome = parse(header);
    ASSERT_EQ(outcome.status, Status::kDone);
    EXPECT_EQ(outcome.header.version, 1);
    EXPECT_FALSE(outcome.header.has_addresses);
    EXPECT_EQ(outcome.consumed, header.size());
  }
}

TEST(ProxyHeaderParserTest, V2ProxyOverIpv4AndIpv6) {
  const Outcome v4 = parse(v2(0x21, 0x11, kInetBlock));
  ASSERT_EQ(v4.status, Status::kDone);
  EXPECT_EQ(v4.header.version, 2);
  EXPECT_FALSE(v4.header.local);
  ASSERT_TRUE(v4.header.has_addresses);
  EXPECT_EQ(addressText(v4.header.source), "192.0.2.1:56324");
  EXPECT_EQ(addressText(v4.header.destination), "198.51.100.7:443");
  EXPECT_EQ(v4.consumed, 16u + 12u);

  const Outcome v6 = parse(v2(0x21, 0x21, kInet6Block));
  ASSERT_EQ(v6.status, Status::kDone);
  ASSERT_TRUE(v6.header.has_addresses);
  EXPECT_EQ(addressText(v6.header.source), "[2001:db8::1]:1");
  EXPECT_EQ(addressText(v6.header.destination), "[2001:db8::2]:65535");
  EXPECT_EQ(v6.consumed, 16u + 36u);
}

TEST(ProxyHeaderParserTest, V2LocalKeepsTheSocketsAddressAndSkipsWhatItDeclares) {
  const Outcome bare = parse(v2(0x20, 0x00, ""));
  ASSERT_EQ(bare.status, Status::kDone);
  EXPECT_TRUE(bare.header.local);
  EXPECT_FALSE(bare.header.has_addresses);
  EXPECT_EQ(bare.consumed, 16u);
  // LOCAL ignores the family byte and whatever the length covers, even a malformed address.
  const std::string with_block = v2(0x20, 0x11, kInetBlock + "xy");
  const Outcome skipped = parse(with_block + "data");
  ASSERT_EQ(skipped.status, Status::kDone);
  EXPECT_TRUE(skipped.header.local);
  EXPECT_FALSE(skipped.header.has_addresses);
  EXPECT_EQ(skipped.consumed, with_block.size());
  EXPECT_EQ(parse(v2(0x20, 0xff, "")).status, Status::kDone);
}

TEST(ProxyHeaderParserTest, V2UnixUnspecAndDatagramKeepTheSocketsAddress) {
  const std::vector<std::string> headers = {
      v2(0x21, 0x31, std::string(216, 'u')),                // UNIX stream
      v2(0x21, 0x32, std::string(216, 'u') + tlv(1, "x")),  // UNIX datagram, a TLV
      v2(0x21, 0x00, ""),                                   // UNSPEC
      v2(0x21, 0x00, "ignored address information"),        // UNSPEC skips what it declares
      v2(0x21, 0x10, kInetBlock),                           // IPv4, unspecified transport
      v2(0x21, 0x12, kInetBlock),                           // UDP over IPv4
      v2(0x21, 0x22, kInet6Block),                          // UDP over IPv6
  };
  for (const std::string& header : headers) {
    SCOPED_TRACE(testing::PrintToString(header.substr(12, 2)));
    const Outcome outcome = parse(header);
    ASSERT_EQ(outcome.status, Status::kDone);
    EXPECT_FALSE(outcome.header.local);
    EXPECT_FALSE(outcome.header.has_addresses);
    EXPECT_EQ(outcome.consumed, header.size());
  }
}

TEST(ProxyHeaderParserTest, V2TlvsAreSkippedAndTheAddressesKept) {
  const std::string header = v2(
      0x21, 0x11, kInetBlock + tlv(0x01, "h2") + tlv(0x04, "") + tlv(0x20, std::string(300, 's')));
  const Outcome outcome = parse(header + "hello");
  ASSERT_EQ(outcome.status, Status::kDone);
  EXPECT_EQ(outcome.consumed, header.size());
  ASSERT_TRUE(outcome.header.has_addresses);
  EXPECT_EQ(addressText(outcome.header.source), "192.0.2.1:56324");
}

TEST(ProxyHeaderParserTest, TruncatedAtEveryByteNeedsMoreThenCompletes) {
  for (const std::string& header : validHeaders()) {
    const Outcome whole = parse(header);
    ASSERT_EQ(whole.status, Status::kDone) << testing::PrintToString(header);
    for (size_t cut = 0; cut < header.size(); ++cut) {
      SCOPED_TRACE(testing::PrintToString(header) + " cut at " + std::to_string(cut));
      ProxyHeaderParser parser;
      const auto first = parser.feed(header.data(), cut);
      ASSERT_EQ(first.status, Status::kNeedMore);
      EXPECT_EQ(first.consumed, cut);
      const std::string rest = header.substr(cut) + "client data";
      const auto second = parser.feed(rest.data(), rest.size());
      ASSERT_EQ(second.status, Status::kDone);
      EXPECT_EQ(second.consumed, header.size() - cut);
      EXPECT_EQ(parser.header().length, header.size());
      EXPECT_EQ(parser.header().has_addresses, whole.header.has_addresses);
      EXPECT_EQ(addressText(parser.header().source), addressText(whole.header.source));
    }
    const Outcome single = parseByteByByte(header + "x");
    EXPECT_EQ(single.status, Status::kDone);
    EXPECT_EQ(single.consumed, header.size());
  }
}

TEST(ProxyHeaderParserTest, DataRightAfterTheHeaderIsLeftToTheCaller) {
  for (const std::string& header : validHeaders()) {
    // Even bytes that look like a second header: only the first one is the header.
    for (const std::string& data : {std::string("GET / HTTP/1.0\r\n"), std::string(1, '\0'),
                                    std::string("PROXY UNKNOWN\r\n")}) {
      const Outcome outcome = parse(header + data);
      ASSERT_EQ(outcome.status, Status::kDone);
      EXPECT_EQ(outcome.consumed, header.size());
      EXPECT_EQ(outcome.header.length, header.size());
    }
  }
}

TEST(ProxyHeaderParserTest, OnceDoneOrFailedItConsumesNothingMore) {
  ProxyHeaderParser done;
  const std::string header = "PROXY UNKNOWN\r\n";
  ASSERT_EQ(done.feed(header.data(), header.size()).status, Status::kDone);
  const auto again = done.feed("more", 4);
  EXPECT_EQ(again.status, Status::kDone);
  EXPECT_EQ(again.consumed, 0u);
  EXPECT_EQ(done.bytesConsumed(), header.size());

  ProxyHeaderParser failed;
  ASSERT_EQ(failed.feed("GET", 3).status, Status::kError);
  EXPECT_EQ(failed.feed("PROXY", 5).status, Status::kError);
  EXPECT_EQ(failed.error(), Error::kNoHeader);
}

TEST(ProxyHeaderParserTest, NoHeaderIsRefusedAtTheFirstByteThatCannotMatch) {
  struct Case {
    std::string input;
    size_t decided_at;  // bytes consumed when refused
  };
  const std::vector<Case> cases = {
      {"GET / HTTP/1.1\r\n", 1},
      {"hello\n", 1},
      {"POST / HTTP/1.1\r\n", 2},
      {"PROXY", 0},  // not refused: could still be a header
      {"PROXYTCP4", 6},
      {"proxy TCP4", 1},
      {kSignature.substr(0, 11) + "X" + "\x21\x11", 12},
      {std::string("\r\n\r\n\n"), 5},
      {std::string(1, '\0'), 1},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(testing::PrintToString(c.input));
    const Outcome outcome = parseByteByByte(c.input);
    if (c.decided_at == 0) {
      EXPECT_EQ(outcome.status, Status::kNeedMore);
      continue;
    }
    EXPECT_EQ(outcome.status, Status::kError);
    EXPECT_EQ(outcome.error, Error::kNoHeader);
    EXPECT_EQ(outcome.consumed, c.decided_at);
  }
}

TEST(ProxyHeaderParserTest, V2BadVersionCommandAndFamily) {
  expectError(v2(0x11, 0x11, kInetBlock), Error::kV2BadVersion);
  expectError(v2(0x31, 0x11, kInetBlock), Error::kV2BadVersion);
  expectError(v2(0x01, 0x11, kInetBlock), Error::kV2BadVersion);
  expectError(v2(0x22, 0x11, kInetBlock), Error::kV2BadCommand);
  expectError(v2(0x2f, 0x11, kInetBlock), Error::kV2BadCommand);
  expectError(v2(0x21, 0x41, kInetBlock), Error::kV2BadFamily);
  expectError(v2(0x21, 0x13, kInetBlock), Error::kV2BadFamily);
  expectError(v2(0x21, 0xf1, kInetBlock), Error::kV2BadFamily);
  // Refused at the byte itself, without waiting for the rest.
  const Outcome early = parseByteByByte(kSignature + "\x21\x41");
  EXPECT_EQ(early.status, Status::kError);
  EXPECT_EQ(early.consumed, 14u);
}

TEST(ProxyHeaderParserTest, V2LengthPastTheCapIsRefusedAtTheLengthField) {
  const std::string at_cap =
      v2(0x21, 0x11, kInetBlock + tlv(0xe0, std::string(kProxyV2MaxDeclaredBytes - 12 - 3, 'c')));
  ASSERT_EQ(at_cap.size(), 16 + kProxyV2MaxDeclaredBytes);
  EXPECT_EQ(parse(at_cap).status, Status::kDone);
  std::string past_cap = kSignature + "\x21\x11";
  past_cap.push_back(static_cast<char>((kProxyV2MaxDeclaredBytes + 1) >> 8));
  past_cap.push_back(static_cast<char>((kProxyV2MaxDeclaredBytes + 1) & 0xff));
  const Outcome outcome = parseByteByByte(past_cap + kInetBlock);
  EXPECT_EQ(outcome.status, Status::kError);
  EXPECT_EQ(outcome.error, Error::kV2TooLong);
  EXPECT_EQ(outcome.consumed, 16u);
  EXPECT_EQ(parse(kSignature + bytes({0x20, 0x00, 0xff, 0xff})).error, Error::kV2TooLong);
  EXPECT_EQ(proxyHeaderErrorClass(Error::kV2TooLong), ProxyErrorClass::kTooLong);
}

TEST(ProxyHeaderParserTest, V2AddressBlockLongerThanTheDeclaredLength) {
  expectError(v2(0x21, 0x11, kInetBlock.substr(0, 11)), Error::kV2ShortAddress);
  expectError(v2(0x21, 0x21, kInetBlock), Error::kV2ShortAddress);
  expectError(v2(0x21, 0x31, std::string(215, 'u')), Error::kV2ShortAddress);
}

TEST(ProxyHeaderParserTest, V2TlvsMustEndWhereTheLengthEnds) {
  // A TLV whose value runs past the declared length: refused, and nothing past it is read.
  const std::string overrun = v2(0x21, 0x11, kInetBlock + bytes({0x01, 0x00, 0x05}) + "abcd");
  const Outcome outcome = parse(overrun + "e" + "more");
  EXPECT_EQ(outcome.status, Status::kError);
  EXPECT_EQ(outcome.error, Error::kV2BadTlv);
  EXPECT_LE(outcome.consumed, overrun.size());
  expectError(v2(0x21, 0x11, kInetBlock + "ab"), Error::kV2BadTlv);  // room for no TLV header
  expectError(v2(0x21, 0x11, kInetBlock + tlv(1, "x") + "\x04"), Error::kV2BadTlv);
  expectError(v2(0x21, 0x11, kInetBlock + bytes({0x04, 0xff, 0xff})), Error::kV2BadTlv);
}

TEST(ProxyHeaderParserTest, V1WithoutCrlfWithin107BytesIsTooLong) {
  const std::string line = "PROXY UNKNOWN " + std::string(kProxyV1MaxBytes - 14, 'x');
  ASSERT_EQ(line.size(), kProxyV1MaxBytes);
  const Outcome outcome = parseByteByByte(line + "\r\n");
  EXPECT_EQ(outcome.status, Status::kError);
  EXPECT_EQ(outcome.error, Error::kV1TooLong);
  EXPECT_EQ(outcome.consumed, kProxyV1MaxBytes);
  // 106 bytes and a CR: the LF would be the 108th byte.
  expectError(line.substr(0, 106) + "\r\n", Error::kV1TooLong);
  EXPECT_EQ(proxyHeaderErrorClass(Error::kV1TooLong), ProxyErrorClass::kTooLong);
}

TEST(ProxyHeaderParserTest, V1LineMustEndWithCrlf) {
  expectError("PROXY UNKNOWN\n", Error::kV1BadLineEnd);
  expectError("PROXY UNKNOWN\r\r\n", Error::kV1BadLineEnd);
  expectError("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n", Error::kV1BadLineEnd);
  expectError("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\rX", Error::kV1BadLineEnd);
  expectError("PROXY UNKNOWN a\nb\r\n", Error::kV1BadLineEnd);
}

TEST(ProxyHeaderParserTest, V1FieldsAndSpacesExactly) {
  for (const std::string line : {
           "PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n",
           "PROXY  TCP4 1.2.3.4 5.6.7.8 1 2\r\n",
           "PROXY tcp4 1.2.3.4 5.6.7.8 1 2\r\n",
           "PROXY TCP4  1.2.3.4 5.6.7.8 1 2\r\n",
           "PROXY TCP4 1.2.3.4  5.6.7.8 1 2\r\n",
           "PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n",
           "PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n",
           "PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n",
           "PROXY TCP4\r\n",
           "PROXY TCP4 \r\n",
           "PROXY \r\n",
           "PROXY UNKNOWNX\r\n",
           "PROXY UNKNOWN\tx\r\n",
           "PROXY TCP4 1.2.3.4\t5.6.7.8 1 2\r\n",
           "PROXY TCP4 1.2.3.4 5.6.7.8 +1 2\r\n",
       }) {
    expectError(line, Error::kV1BadSyntax);
  }
}

TEST(ProxyHeaderParserTest, V1OutOfRangePortsAreRefused) {
  EXPECT_EQ(parse("PROXY TCP4 1.2.3.4 5.6.7.8 0 65535\r\n").status, Status::kDone);
  for (const std::string port : {"65536", "99999", "100000", "01", "00", "1a", "-1"}) {
    SCOPED_TRACE(port);
    const std::string line = "PROXY TCP4 1.2.3.4 5.6.7.8 " + port + " 80\r\n";
    const Outcome outcome = parse(line);
    EXPECT_EQ(outcome.status, Status::kError);
    // '-' is not in a TCP line's alphabet: refused as syntax, before the CRLF.
    EXPECT_EQ(outcome.error, port == "-1" ? Error::kV1BadSyntax : Error::kV1BadPort);
    EXPECT_EQ(parse("PROXY TCP4 1.2.3.4 5.6.7.8 80 " + port + "\r\n").status, Status::kError);
  }
}

TEST(ProxyHeaderParserTest, V1OutOfRangeAndMalformedAddressesAreRefused) {
  for (const std::string address :
       {"256.1.1.1", "1.2.3", "1.2.3.4.5", "01.2.3.4", "1.2.3.04", "1..3.4", "1.2.3.4.", ".1.2.3",
        "1000.1.1.1", "::1", "1.2.3.a"}) {
    expectError("PROXY TCP4 " + address + " 5.6.7.8 1 2\r\n", Error::kV1BadAddress);
    expectError("PROXY TCP4 5.6.7.8 " + address + " 1 2\r\n", Error::kV1BadAddress);
  }
  for (const std::string address :
       {"1.2.3.4", "1::2::3", "12345::1", "::ffff:1.2.3.04", "1:2:3:4:5:6:7:8:9", ":::1", "f"}) {
    expectError("PROXY TCP6 " + address + " ::1 1 2\r\n", Error::kV1BadAddress);
  }
  // Characters no address has are refused as they arrive.
  expectError("PROXY TCP6 2001:db8::g ::1 1 2\r\n", Error::kV1BadSyntax);
  expectError("PROXY TCP6 fe80::1%eth0 ::1 1 2\r\n", Error::kV1BadSyntax);
  EXPECT_EQ(parse("PROXY TCP4 0.0.0.0 255.255.255.255 1 2\r\n").status, Status::kDone);
}

TEST(ProxyHeaderParserTest, ErrorsHaveStableNamesAndClasses) {
  EXPECT_STREQ(proxyHeaderErrorName(Error::kNoHeader), "no_header");
  EXPECT_STREQ(proxyHeaderErrorName(Error::kV2BadTlv), "v2_bad_tlv");
  EXPECT_EQ(proxyHeaderErrorClass(Error::kNoHeader), ProxyErrorClass::kNoHeader);
  EXPECT_EQ(proxyHeaderErrorClass(Error::kV1BadPort), ProxyErrorClass::kMalformed);
  EXPECT_EQ(proxyHeaderErrorClass(Error::kV2BadFamily), ProxyErrorClass::kMalformed);
}

}  // namespace
}  // namespace reactord::common
