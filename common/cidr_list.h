#pragma once

#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace reactord::common {

// Loopback and the private ranges: the sources a PROXY protocol header is accepted from unless
// told otherwise. None of them is reachable from the internet without a NAT in between, so a port
// exposed by mistake refuses outside clients instead of believing the addresses they claim.
inline constexpr char kPrivateAndLoopbackCidrs[] =
    "127.0.0.0/8,::1/128,10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,fc00::/7";

// A set of IPv4 and IPv6 networks ("10.0.0.0/8,fc00::/7,192.0.2.1"), and whether an address is in
// one of them. IPv4 is handled as IPv4-mapped IPv6 (::ffff:a.b.c.d), so an IPv4 entry matches a
// client that a dual-stack ("::") listener sees as ::ffff:a.b.c.d, and an IPv6 entry that covers
// ::ffff:0:0/96 (such as ::/0) covers IPv4 clients too. A value type, read-only once built: any
// thread may call contains().
class CidrList {
 public:
  // Empty: contains nothing.
  CidrList() = default;
  // Comma-separated entries ADDRESS or ADDRESS/PREFIX (spaces around entries are ignored). An
  // address without a prefix is one host. Refused, with the reason in `error`: an empty list or
  // entry, a host name, a prefix out of range or with a leading zero, and an address with bits set
  // past its prefix ("10.1.0.0/8": write 10.0.0.0/8).
  static std::optional<CidrList> parse(std::string_view text, std::string* error);

  bool contains(const sockaddr_storage& address) const;
  size_t size() const { return entries_.size(); }
  // The entries as parsed, comma-separated, for logs.
  const std::string& text() const { return text_; }

 private:
  struct Entry {
    std::array<uint8_t, 16> network{};  // IPv4 as ::ffff:a.b.c.d
    uint32_t prefix = 0;                // 0..128 over those 16 bytes
  };
  static bool matches(const Entry& entry, const std::array<uint8_t, 16>& address);

  std::vector<Entry> entries_;
  std::string text_;
};

}  // namespace reactord::common
