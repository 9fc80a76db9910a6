#pragma once

#include <sys/socket.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace reactord::common {

// The PROXY protocol header (HAProxy's doc/proxy-protocol.txt) that a balancer sends before the
// client's bytes, in either version:
//   v1 (text):   "PROXY TCP4|TCP6 <src> <dst> <sport> <dport>\r\n" or "PROXY UNKNOWN[ ...]\r\n",
//                at most 107 bytes with the CRLF.
//   v2 (binary): the 12-byte signature, version/command, family/transport, a 2-byte length, then
//                that many bytes: the address block of the family, then TLVs.

// The longest v1 line, CRLF included: "PROXY UNKNOWN" with two full IPv6 addresses and ports.
inline constexpr size_t kProxyV1MaxBytes = 107;
// v2: the 16 bytes before the addresses.
inline constexpr size_t kProxyV2FixedBytes = 16;
// v2: the largest length field accepted. The specification allows up to 65535; what balancers send
// is the address block (at most 216 bytes, AF_UNIX) and a few TLVs (an AWS endpoint id, an SSL
// common name, a unique id of at most 128 bytes). A header declaring more is refused.
inline constexpr size_t kProxyV2MaxDeclaredBytes = 2048;
inline constexpr std::string_view kProxyV2Signature{"\r\n\r\n\0\r\nQUIT\n", 12};
inline constexpr std::string_view kProxyV1Prefix = "PROXY ";

// Why a header was refused. Each has a stable name (proxyHeaderErrorName) for logs, and belongs to
// one of three classes (proxyHeaderErrorClass) that the server counts.
enum class ProxyHeaderError : uint8_t {
  kNone,
  kNoHeader,        // the first bytes match neither "PROXY " nor the v2 signature
  kV1TooLong,       // no CRLF within kProxyV1MaxBytes
  kV1BadLineEnd,    // a CR without its LF, or an LF without its CR
  kV1BadSyntax,     // protocol name, spaces, characters or field count not as specified
  kV1BadAddress,    // not an address of the family named (IPv4: no leading zeros, each <= 255)
  kV1BadPort,       // not 0..65535 in decimal, or a leading zero
  kV2BadVersion,    // the version nibble is not 2
  kV2BadCommand,    // neither LOCAL (0) nor PROXY (1)
  kV2BadFamily,     // PROXY with an address family above 3 (UNIX) or a transport above 2 (DGRAM)
  kV2TooLong,       // the length field exceeds kProxyV2MaxDeclaredBytes
  kV2ShortAddress,  // the length field is shorter than the family's address block
  kV2BadTlv,        // TLVs that do not end exactly where the declared length ends
};

// "none", "no_header", "v1_too_long", "v1_bad_line_end", "v1_bad_syntax", "v1_bad_address",
// "v1_bad_port", "v2_bad_version", "v2_bad_command", "v2_bad_family", "v2_too_long",
// "v2_short_address", "v2_bad_tlv".
const char* proxyHeaderErrorName(ProxyHeaderError error);

// The classes of refusal the server counts: no header at all, a header past its size limit, any
// other malformed header.
enum class ProxyErrorClass : uint8_t { kNoHeader, kTooLong, kMalformed };
ProxyErrorClass proxyHeaderErrorClass(ProxyHeaderError error);

// What a complete header said.
struct ProxyHeader {
  int version = 0;     // 1 or 2
  bool local = false;  // v2 LOCAL: the balancer's own connection (a health check)
  // True for v1 TCP4/TCP6 and v2 PROXY over TCP/IPv4 or TCP/IPv6: `source` is the client's address
  // and replaces the socket's peer address. False for v1 UNKNOWN, v2 LOCAL and the v2 families the
  // server does not use (AF_UNSPEC, AF_UNIX, datagrams): the socket's addresses stay.
  bool has_addresses = false;
  sockaddr_storage source{};       // AF_INET or AF_INET6, port included, when has_addresses
  sockaddr_storage destination{};  // the address the client connected to, when has_addresses
  size_t length = 0;               // bytes of the whole header
};

// Reads one PROXY protocol header, v1 or v2 (told apart by the first byte), from a stream fed in
// pieces of any size, one byte at a time included. Strict: anything the specification does not
// allow is an error, found as early as the bytes allow (a first byte that is neither 'P' nor '\r'
// refuses the connection at once; "POST" fails at its second byte). Never reads past the header:
// a v2 header ends after exactly 16 + its length field bytes, a v1 header at its CRLF; the bytes
// after it in the same piece are the caller's. TLVs are checked for shape and skipped (the
// optional CRC32C TLV is not verified); after LOCAL or an unspecified family or transport the
// declared bytes are skipped unread, as the specification says. Holds 456 bytes whatever the
// header's length: TLVs and AF_UNIX addresses are counted, not stored. A value type; not
// thread-safe (one connection's).
class ProxyHeaderParser {
 public:
  enum class Status : uint8_t { kNeedMore, kDone, kError };
  struct Step {
    Status status = Status::kNeedMore;
    // Bytes of this piece that belong to the header: all of them for kNeedMore; for kDone the
    // rest of the piece is the client's data. For kError, the bytes up to the one found wrong.
    size_t consumed = 0;
  };

  // Consumes the next `size` bytes of the stream. Once done or failed, consumes nothing and
  // repeats the outcome.
  Step feed(const char* data, size_t size);

  Status status() const { return status_; }
  // When status() is kDone.
  const ProxyHeader& header() const { return header_; }
  // When status() is kError.
  ProxyHeaderError error() const { return error_; }
  // Bytes consumed so far.
  size_t bytesConsumed() const { return consumed_; }

 private:
  enum class Phase : uint8_t { kFirstByte, kV1, kV2Fixed, kV2Address, kV2TlvHeader, kV2TlvValue };

  void v1Byte(uint8_t byte);
  // Whether `byte` may stand at `position` of a v1 line, given the bytes before it (CR and LF
  // excepted: v1Byte handles them).
  bool v1ByteAllowed(size_t position, uint8_t byte) const;
  // Checks the v1 line held in buffer_ (CRLF included) and completes the header.
  void parseV1Line();
  void v2FixedByte(uint8_t byte);
  // Takes address bytes from the piece; returns how many.
  size_t v2TakeAddress(const char* data, size_t size);
  void v2TlvHeaderByte(uint8_t byte);
  // Called when a v2 part ends: chooses the next phase, or completes the header.
  void v2AfterFixed();
  void v2AfterAddress();
  void v2NextTlvOrDone();
  void fail(ProxyHeaderError error);
  void finish() { status_ = Status::kDone; }

  Phase phase_ = Phase::kFirstByte;
  Status status_ = Status::kNeedMore;
  ProxyHeaderError error_ = ProxyHeaderError::kNone;
  size_t consumed_ = 0;
  // v1: the line so far; v2: the 16 fixed bytes, then the address block of TCP over IPv4/IPv6.
  std::array<uint8_t, kProxyV1MaxBytes> buffer_{};
  size_t filled_ = 0;
  // v2: the family/transport byte, how the address block is taken, and what is left of it, of the
  // declared length after it, and of the current TLV's value.
  uint8_t family_transport_ = 0;
  bool store_address_ = false;  // TCP over IPv4/IPv6: kept in buffer_ for header_
  size_t address_left_ = 0;
  size_t declared_left_ = 0;
  size_t tlv_value_left_ = 0;
  std::array<uint8_t, 3> tlv_header_{};
  size_t tlv_header_filled_ = 0;
  ProxyHeader header_;
};

}  // namespace reactord::common
