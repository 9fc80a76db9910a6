// libFuzzer target for the PROXY protocol header parser: the input (after one byte that seeds the
// piece sizes) fed whole and fed in random pieces must give the same outcome: the same status,
// error, header length and addresses. Also: a header never extends past the input, a v1 header is
// at most 107 bytes and a v2 one exactly 16 + its length field (at most the cap), a finished parser
// takes no more bytes, and a header with addresses, written again by proxy_header_writer, parses
// to the same addresses.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

#include "common/proxy_header_parser.h"
#include "common/proxy_header_writer.h"
#include "common/socket_address.h"

namespace {

using reactord::common::ProxyHeader;
using reactord::common::ProxyHeaderParser;
using Status = ProxyHeaderParser::Status;

void check(bool condition) {
  if (!condition) {
    std::abort();
  }
}

bool sameAddress(const sockaddr_storage& a, const sockaddr_storage& b) {
  return std::memcmp(&a, &b, sizeof a) == 0;
}

bool sameHeader(const ProxyHeader& a, const ProxyHeader& b) {
  return a.version == b.version && a.local == b.local && a.has_addresses == b.has_addresses &&
         a.length == b.length &&
         (!a.has_addresses ||
          (sameAddress(a.source, b.source) && sameAddress(a.destination, b.destination)));
}

// The header written again from its addresses parses to the same addresses.
void checkRewrite(const ProxyHeader& header) {
  using reactord::common::SocketAddress;
  const SocketAddress source = SocketAddress::of(header.source);
  const SocketAddress destination = SocketAddress::of(header.destination);
  const std::string again = header.version == 1
                                ? reactord::common::proxyHeaderV1(source, destination)
                                : reactord::common::proxyHeaderV2(source, destination);
  ProxyHeaderParser parser;
  const auto step = parser.feed(again.data(), again.size());
  check(step.status == Status::kDone && step.consumed == again.size());
  check(parser.header().has_addresses);
  check(sameAddress(parser.header().source, header.source));
  check(sameAddress(parser.header().destination, header.destination));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) {
    return 0;
  }
  uint32_t seed = data[0];
  const char* input = reinterpret_cast<const char*>(data + 1);
  --size;

  ProxyHeaderParser whole;
  const ProxyHeaderParser::Step step = whole.feed(input, size);
  check(step.status == whole.status());
  check(step.consumed <= size);
  check(step.status != Status::kNeedMore || step.consumed == size);

  ProxyHeaderParser pieces;
  size_t consumed = 0;
  for (size_t offset = 0; offset < size && pieces.status() == Status::kNeedMore;) {
    seed = seed * 1103515245u + 12345u;
    const size_t piece = std::min<size_t>(size - offset, 1 + (seed >> 16) % 23);
    const ProxyHeaderParser::Step part = pieces.feed(input + offset, piece);
    check(part.consumed <= piece);
    check(part.status != Status::kNeedMore || part.consumed == piece);
    consumed += part.consumed;
    offset += piece;
  }
  check(pieces.status() == whole.status());
  check(pieces.bytesConsumed() == consumed);

  if (whole.status() == Status::kError) {
    check(pieces.error() == whole.error());
    return 0;
  }
  check(consumed == step.consumed);
  if (whole.status() == Status::kNeedMore) {
    return 0;
  }
  const ProxyHeader& header = whole.header();
  check(sameHeader(header, pieces.header()));
  check(header.length == step.consumed);
  if (header.version == 1) {
    check(header.length <= reactord::common::kProxyV1MaxBytes);
    check(input[header.length - 2] == '\r' && input[header.length - 1] == '\n');
  } else {
    check(header.version == 2);
    const size_t declared = static_cast<uint8_t>(input[14]) << 8 | static_cast<uint8_t>(input[15]);
    check(header.length == reactord::common::kProxyV2FixedBytes + declared);
    check(declared <= reactord::common::kProxyV2MaxDeclaredBytes);
  }
  check(whole.feed(input, size).consumed == 0);
  if (header.has_addresses) {
    checkRewrite(header);
  }
  return 0;
}
