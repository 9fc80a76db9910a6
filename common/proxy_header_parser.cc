#include "common/proxy_header_parser.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cstring>

namespace reactord::common {
namespace {

constexpr std::string_view kTcp = "TCP";
constexpr std::string_view kUnknown = "UNKNOWN";
// Where the v1 protocol name starts, and where the first address starts after "TCP4 ".
constexpr size_t kV1ProtocolAt = kProxyV1Prefix.size();
constexpr size_t kV1TcpFieldsAt = kV1ProtocolAt + 5;
constexpr size_t kV1AfterUnknown = kV1ProtocolAt + kUnknown.size();
// The longest textual IPv6 address inet_pton takes ("ffff:...:ffff:255.255.255.255").
constexpr size_t kMaxIpv6Text = 45;

constexpr uint8_t kV2Version = 2;
constexpr uint8_t kV2Local = 0;
constexpr uint8_t kV2Proxy = 1;
constexpr uint8_t kFamilyUnspec = 0;
constexpr uint8_t kFamilyInet = 1;
constexpr uint8_t kFamilyInet6 = 2;
constexpr uint8_t kFamilyUnix = 3;
constexpr uint8_t kTransportUnspec = 0;
constexpr uint8_t kTransportStream = 1;
constexpr uint8_t kTransportDgram = 2;
constexpr size_t kInetBlock = size_t{2} * 4 + size_t{2} * 2;
constexpr size_t kInet6Block = size_t{2} * 16 + size_t{2} * 2;
constexpr size_t kUnixBlock = size_t{2} * 108;
constexpr size_t kTlvHeaderBytes = 3;

bool isDigit(uint8_t c) { return c >= '0' && c <= '9'; }
bool isHexDigit(uint8_t c) {
  return isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// A decimal number of at most `max_digits` digits and at most `max`, without a leading zero
// ("0" itself is fine); -1 otherwise.
long strictDecimal(std::string_view text, size_t max_digits, long max) {
  if (text.empty() || text.size() > max_digits || (text.size() > 1 && text[0] == '0')) {
    return -1;
  }
  long value = 0;
  for (const char c : text) {
    if (!isDigit(static_cast<uint8_t>(c))) {
      return -1;
    }
    value = value * 10 + (c - '0');
  }
  return value <= max ? value : -1;
}

// Four decimal numbers 0..255 without leading zeros, separated by single dots.
bool parseIpv4(std::string_view text, in_addr* address) {
  uint8_t bytes[4];
  for (int i = 0; i < 4; ++i) {
    const size_t dot = i < 3 ? text.find('.') : text.size();
    if (dot == std::string_view::npos) {
      return false;
    }
    const long part = strictDecimal(text.substr(0, dot), 3, 255);
    if (part < 0) {
      return false;
    }
    bytes[i] = static_cast<uint8_t>(part);
    text.remove_prefix(i < 3 ? dot + 1 : dot);
  }
  std::memcpy(&address->s_addr, bytes, sizeof bytes);
  return true;
}

// Hexadecimal groups, colons, one "::" at most, optionally a dotted IPv4 tail: what inet_ntop
// writes, and so what every sender writes.
bool parseIpv6(std::string_view text, in6_addr* address) {
  if (text.empty() || text.size() > kMaxIpv6Text) {
    return false;
  }
  char copy[kMaxIpv6Text + 1];
  for (size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<uint8_t>(text[i]);
    if (!isHexDigit(c) && c != ':' && c != '.') {
      return false;
    }
    copy[i] = text[i];
  }
  copy[text.size()] = '\0';
  return inet_pton(AF_INET6, copy, address) == 1;
}

bool parseV1Address(int family, std::string_view text, sockaddr_storage* out) {
  *out = {};
  out->ss_family = static_cast<sa_family_t>(family);
  if (family == AF_INET) {
    return parseIpv4(text, &reinterpret_cast<sockaddr_in*>(out)->sin_addr);
  }
  return parseIpv6(text, &reinterpret_cast<sockaddr_in6*>(out)->sin6_addr);
}

void setPort(sockaddr_storage* address, uint16_t port) {
  if (address->ss_family == AF_INET) {
    reinterpret_cast<sockaddr_in*>(address)->sin_port = htons(port);
  } else {
    reinterpret_cast<sockaddr_in6*>(address)->sin6_port = htons(port);
  }
}

uint16_t bigEndian16(const uint8_t* bytes) {
  return static_cast<uint16_t>(bytes[0] << 8 | bytes[1]);
}

// The v2 address block of TCP over IPv4 or IPv6 (source, destination, source port, destination
// port) as two socket addresses.
void readV2Addresses(uint8_t family, const uint8_t* block, ProxyHeader* header) {
  header->source = {};
  header->destination = {};
  if (family == kFamilyInet) {
    auto* source = reinterpret_cast<sockaddr_in*>(&header->source);
    auto* destination = reinterpret_cast<sockaddr_in*>(&header->destination);
    source->sin_family = destination->sin_family = AF_INET;
    std::memcpy(&source->sin_addr, block, 4);
    std::memcpy(&destination->sin_addr, block + 4, 4);
    source->sin_port = htons(bigEndian16(block + 8));
    destination->sin_port = htons(bigEndian16(block + 10));
  } else {
    auto* source = reinterpret_cast<sockaddr_in6*>(&header->source);
    auto* destination = reinterpret_cast<sockaddr_in6*>(&header->destination);
    source->sin6_family = destination->sin6_family = AF_INET6;
    std::memcpy(&source->sin6_addr, block, 16);
    std::memcpy(&destination->sin6_addr, block + 16, 16);
    source->sin6_port = htons(bigEndian16(block + 32));
    destination->sin6_port = htons(bigEndian16(block + 34));
  }
  header->has_addresses = true;
}

}  // namespace

const char* proxyHeaderErrorName(ProxyHeaderError error) {
  switch (error) {
    case ProxyHeaderError::kNone:
      return "none";
    case ProxyHeaderError::kNoHeader:
      return "no_header";
    case ProxyHeaderError::kV1TooLong:
      return "v1_too_long";
    case ProxyHeaderError::kV1BadLineEnd:
      return "v1_bad_line_end";
    case ProxyHeaderError::kV1BadSyntax:
      return "v1_bad_syntax";
    case ProxyHeaderError::kV1BadAddress:
      return "v1_bad_address";
    case ProxyHeaderError::kV1BadPort:
      return "v1_bad_port";
    case ProxyHeaderError::kV2BadVersion:
      return "v2_bad_version";
    case ProxyHeaderError::kV2BadCommand:
      return "v2_bad_command";
    case ProxyHeaderError::kV2BadFamily:
      return "v2_bad_family";
    case ProxyHeaderError::kV2TooLong:
      return "v2_too_long";
    case ProxyHeaderError::kV2ShortAddress:
      return "v2_short_address";
    case ProxyHeaderError::kV2BadTlv:
      return "v2_bad_tlv";
  }
  return "unknown";
}

ProxyErrorClass proxyHeaderErrorClass(ProxyHeaderError error) {
  switch (error) {
    case ProxyHeaderError::kNoHeader:
      return ProxyErrorClass::kNoHeader;
    case ProxyHeaderError::kV1TooLong:
    case ProxyHeaderError::kV2TooLong:
      return ProxyErrorClass::kTooLong;
    default:
      return ProxyErrorClass::kMalformed;
  }
}

ProxyHeaderParser::Step ProxyHeaderParser::feed(const char* data, size_t size) {
  if (status_ != Status::kNeedMore) {
    return {status_, 0};
  }
  size_t used = 0;
  while (used < size && status_ == Status::kNeedMore) {
    const auto byte = static_cast<uint8_t>(data[used]);
    switch (phase_) {
      case Phase::kFirstByte:
        ++used;
        if (byte == static_cast<uint8_t>(kProxyV1Prefix[0])) {
          phase_ = Phase::kV1;
          v1Byte(byte);
        } else if (byte == static_cast<uint8_t>(kProxyV2Signature[0])) {
          phase_ = Phase::kV2Fixed;
          v2FixedByte(byte);
        } else {
          fail(ProxyHeaderError::kNoHeader);
        }
        break;
      case Phase::kV1:
        ++used;
        v1Byte(byte);
        break;
      case Phase::kV2Fixed:
        ++used;
        v2FixedByte(byte);
        break;
      case Phase::kV2Address:
        used += v2TakeAddress(data + used, size - used);
        break;
      case Phase::kV2TlvHeader:
        ++used;
        v2TlvHeaderByte(byte);
        break;
      case Phase::kV2TlvValue: {
        const size_t skipped = std::min(tlv_value_left_, size - used);
        used += skipped;
        tlv_value_left_ -= skipped;
        if (tlv_value_left_ == 0) {
          v2NextTlvOrDone();
        }
        break;
      }
    }
  }
  consumed_ += used;
  if (status_ == Status::kDone) {
    header_.length = consumed_;
  }
  return {status_, used};
}

void ProxyHeaderParser::fail(ProxyHeaderError error) {
  status_ = Status::kError;
  error_ = error;
}

bool ProxyHeaderParser::v1ByteAllowed(size_t position, uint8_t byte) const {
  const auto c = static_cast<char>(byte);
  if (position == kV1ProtocolAt) {
    return c == kTcp[0] || c == kUnknown[0];
  }
  if (static_cast<char>(buffer_[kV1ProtocolAt]) ==
      kTcp[0]) {  // "TCP4 " or "TCP6 ", then the four fields
    if (position < kV1ProtocolAt + kTcp.size()) {
      return c == kTcp[position - kV1ProtocolAt];
    }
    if (position == kV1ProtocolAt + kTcp.size()) {
      return byte == '4' || byte == '6';
    }
    if (position == kV1TcpFieldsAt - 1) {
      return byte == ' ';
    }
    return isHexDigit(byte) || byte == '.' || byte == ':' || byte == ' ' || byte == '\r';
  }
  if (position < kV1AfterUnknown) {
    return c == kUnknown[position - kV1ProtocolAt];
  }
  if (position == kV1AfterUnknown) {
    return byte == ' ' || byte == '\r';
  }
  return true;  // after "UNKNOWN ", anything up to the CRLF is ignored
}

void ProxyHeaderParser::v1Byte(uint8_t byte) {
  const size_t position = filled_;
  if (position > 0 && buffer_[position - 1] == '\r') {
    if (byte != '\n') {
      return fail(ProxyHeaderError::kV1BadLineEnd);
    }
    buffer_[filled_++] = byte;
    return parseV1Line();
  }
  if (position < kProxyV1Prefix.size()) {
    if (byte != static_cast<uint8_t>(kProxyV1Prefix[position])) {
      return fail(ProxyHeaderError::kNoHeader);
    }
  } else if (byte == '\n') {
    return fail(ProxyHeaderError::kV1BadLineEnd);
  } else if (!v1ByteAllowed(position, byte)) {
    return fail(ProxyHeaderError::kV1BadSyntax);
  }
  buffer_[filled_++] = byte;
  if (filled_ == kProxyV1MaxBytes) {
    fail(ProxyHeaderError::kV1TooLong);  // no room left for a CRLF
  }
}

void ProxyHeaderParser::parseV1Line() {
  header_.version = 1;
  // The line without "PROXY " and the CRLF; v1ByteAllowed checked the protocol name.
  std::string_view line(reinterpret_cast<const char*>(buffer_.data()), filled_ - 2);
  line.remove_prefix(kV1ProtocolAt);
  if (line[0] == kUnknown[0]) {
    return finish();
  }
  const int family = line[kTcp.size()] == '4' ? AF_INET : AF_INET6;
  line.remove_prefix(kV1TcpFieldsAt - kV1ProtocolAt);
  std::string_view fields[4];
  size_t count = 0;
  while (true) {
    const size_t space = line.find(' ');
    const std::string_view field = line.substr(0, space);
    if (field.empty() || count == 4) {
      return fail(ProxyHeaderError::kV1BadSyntax);
    }
    fields[count++] = field;
    if (space == std::string_view::npos) {
      break;
    }
    line.remove_prefix(space + 1);
  }
  if (count != 4) {
    return fail(ProxyHeaderError::kV1BadSyntax);
  }
  if (!parseV1Address(family, fields[0], &header_.source) ||
      !parseV1Address(family, fields[1], &header_.destination)) {
    return fail(ProxyHeaderError::kV1BadAddress);
  }
  const long source_port = strictDecimal(fields[2], 5, 65535);
  const long destination_port = strictDecimal(fields[3], 5, 65535);
  if (source_port < 0 || destination_port < 0) {
    return fail(ProxyHeaderError::kV1BadPort);
  }
  setPort(&header_.source, static_cast<uint16_t>(source_port));
  setPort(&header_.destination, static_cast<uint16_t>(destination_port));
  header_.has_addresses = true;
  finish();
}

void ProxyHeaderParser::v2FixedByte(uint8_t byte) {
  const size_t position = filled_;
  if (position < kProxyV2Signature.size()) {
    if (byte != static_cast<uint8_t>(kProxyV2Signature[position])) {
      return fail(ProxyHeaderError::kNoHeader);
    }
  } else if (position == 12) {  // version and command
    if ((byte >> 4) != kV2Version) {
      return fail(ProxyHeaderError::kV2BadVersion);
    }
    if ((byte & 0x0f) != kV2Local && (byte & 0x0f) != kV2Proxy) {
      return fail(ProxyHeaderError::kV2BadCommand);
    }
  } else if (position == 13) {  // family and transport; ignored after LOCAL
    const bool proxy = (buffer_[12] & 0x0f) == kV2Proxy;
    if (proxy && ((byte >> 4) > kFamilyUnix || (byte & 0x0f) > kTransportDgram)) {
      return fail(ProxyHeaderError::kV2BadFamily);
    }
  }
  buffer_[filled_++] = byte;
  if (filled_ == kProxyV2FixedBytes) {
    v2AfterFixed();
  }
}

void ProxyHeaderParser::v2AfterFixed() {
  const size_t declared = bigEndian16(&buffer_[14]);
  if (declared > kProxyV2MaxDeclaredBytes) {
    return fail(ProxyHeaderError::kV2TooLong);
  }
  header_.version = 2;
  header_.local = (buffer_[12] & 0x0f) == kV2Local;
  family_transport_ = buffer_[13];
  const uint8_t family = family_transport_ >> 4;
  const uint8_t transport = family_transport_ & 0x0f;
  size_t block;
  if (header_.local || family == kFamilyUnspec || transport == kTransportUnspec) {
    block = declared;  // no address information to use: skip it all, unread
  } else {
    block = family == kFamilyInet ? kInetBlock : family == kFamilyInet6 ? kInet6Block : kUnixBlock;
    if (declared < block) {
      return fail(ProxyHeaderError::kV2ShortAddress);
    }
    store_address_ = transport == kTransportStream && family != kFamilyUnix;
  }
  address_left_ = block;
  declared_left_ = declared - block;
  if (address_left_ == 0) {
    return v2AfterAddress();
  }
  phase_ = Phase::kV2Address;
}

size_t ProxyHeaderParser::v2TakeAddress(const char* data, size_t size) {
  const size_t taken = std::min(address_left_, size);
  if (store_address_) {
    std::memcpy(buffer_.data() + filled_, data, taken);
    filled_ += taken;
  }
  address_left_ -= taken;
  if (address_left_ == 0) {
    v2AfterAddress();
  }
  return taken;
}

void ProxyHeaderParser::v2AfterAddress() {
  if (store_address_) {
    readV2Addresses(family_transport_ >> 4, buffer_.data() + kProxyV2FixedBytes, &header_);
  }
  v2NextTlvOrDone();
}

void ProxyHeaderParser::v2NextTlvOrDone() {
  if (declared_left_ == 0) {
    return finish();
  }
  if (declared_left_ < kTlvHeaderBytes) {
    return fail(ProxyHeaderError::kV2BadTlv);
  }
  phase_ = Phase::kV2TlvHeader;
  tlv_header_filled_ = 0;
}

void ProxyHeaderParser::v2TlvHeaderByte(uint8_t byte) {
  tlv_header_[tlv_header_filled_++] = byte;
  if (tlv_header_filled_ < kTlvHeaderBytes) {
    return;
  }
  declared_left_ -= kTlvHeaderBytes;
  const size_t length = bigEndian16(&tlv_header_[1]);  // [0] is the type: any is skipped
  if (length > declared_left_) {
    return fail(ProxyHeaderError::kV2BadTlv);
  }
  declared_left_ -= length;
  tlv_value_left_ = length;
  if (length == 0) {
    return v2NextTlvOrDone();
  }
  phase_ = Phase::kV2TlvValue;
}

}  // namespace reactord::common
