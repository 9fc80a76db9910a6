#include "common/cidr_list.h"

#include <netinet/in.h>

#include <cstring>

#include "common/socket_address.h"

namespace reactord::common {
namespace {

// IPv4-mapped IPv6: ::ffff:0:0/96.
constexpr uint32_t kMappedPrefix = 96;

std::string_view trimSpaces(std::string_view text) {
  while (!text.empty() && text.front() == ' ') {
    text.remove_prefix(1);
  }
  while (!text.empty() && text.back() == ' ') {
    text.remove_suffix(1);
  }
  return text;
}

// An AF_INET or AF_INET6 address as 16 bytes; false for other families.
bool toSixteenBytes(const sockaddr_storage& address, std::array<uint8_t, 16>* bytes) {
  *bytes = {};
  if (address.ss_family == AF_INET) {
    (*bytes)[10] = 0xff;
    (*bytes)[11] = 0xff;
    std::memcpy(bytes->data() + 12, &reinterpret_cast<const sockaddr_in*>(&address)->sin_addr, 4);
    return true;
  }
  if (address.ss_family == AF_INET6) {
    std::memcpy(bytes->data(), &reinterpret_cast<const sockaddr_in6*>(&address)->sin6_addr, 16);
    return true;
  }
  return false;
}

// 0..max in decimal, without a leading zero; -1 otherwise.
int parsePrefix(std::string_view text, int max) {
  if (text.empty() || text.size() > 3 || (text.size() > 1 && text[0] == '0')) {
    return -1;
  }
  int value = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') {
      return -1;
    }
    value = value * 10 + (c - '0');
  }
  return value <= max ? value : -1;
}

// Whether the bits of `bytes` past the first `prefix` are all zero.
bool hostBitsClear(const std::array<uint8_t, 16>& bytes, uint32_t prefix) {
  for (uint32_t bit = prefix; bit < 128; ++bit) {
    if ((bytes[bit / 8] >> (7 - bit % 8)) & 1) {
      return false;
    }
  }
  return true;
}

}  // namespace

std::optional<CidrList> CidrList::parse(std::string_view text, std::string* error) {
  CidrList list;
  while (true) {
    const size_t comma = text.find(',');
    const std::string_view entry = trimSpaces(text.substr(0, comma));
    if (entry.empty()) {
      *error = "empty entry in the address list (to trust every source, write 0.0.0.0/0,::/0)";
      return std::nullopt;
    }
    const size_t slash = entry.find('/');
    const std::string_view ip = entry.substr(0, slash);
    const auto address = SocketAddress::parse(ip, 0);
    if (!address) {
      *error = "'" + std::string(entry) + "' is not an IPv4 or IPv6 address or network";
      return std::nullopt;
    }
    const bool v4 = address->family() == AF_INET;
    const int max_prefix = v4 ? 32 : 128;
    const int prefix = slash == std::string_view::npos
                           ? max_prefix
                           : parsePrefix(entry.substr(slash + 1), max_prefix);
    if (prefix < 0) {
      *error = "'" + std::string(entry) + "': the prefix length must be 0.." +
               std::to_string(max_prefix);
      return std::nullopt;
    }
    Entry parsed;
    sockaddr_storage storage{};
    std::memcpy(&storage, address->get(), address->length());
    toSixteenBytes(storage, &parsed.network);
    parsed.prefix = static_cast<uint32_t>(prefix) + (v4 ? kMappedPrefix : 0);
    if (!hostBitsClear(parsed.network, parsed.prefix)) {
      *error = "'" + std::string(entry) + "' has address bits set past its prefix length";
      return std::nullopt;
    }
    list.entries_.push_back(parsed);
    list.text_ += (list.text_.empty() ? "" : ",") + std::string(entry);
    if (comma == std::string_view::npos) {
      return list;
    }
    text.remove_prefix(comma + 1);
  }
}

bool CidrList::matches(const Entry& entry, const std::array<uint8_t, 16>& address) {
  const uint32_t whole = entry.prefix / 8;
  if (std::memcmp(entry.network.data(), address.data(), whole) != 0) {
    return false;
  }
  const uint32_t rest = entry.prefix % 8;
  if (rest == 0) {
    return true;
  }
  const auto mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (entry.network[whole] & mask) == (address[whole] & mask);
}

bool CidrList::contains(const sockaddr_storage& address) const {
  std::array<uint8_t, 16> bytes{};
  if (!toSixteenBytes(address, &bytes)) {
    return false;
  }
  for (const Entry& entry : entries_) {
    if (matches(entry, bytes)) {
      return true;
    }
  }
  return false;
}

}  // namespace reactord::common
