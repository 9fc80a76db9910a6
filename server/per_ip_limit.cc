#include "server/per_ip_limit.h"

#include <netinet/in.h>

namespace reactord::server {

IpKey IpKey::from(const sockaddr_storage& address) {
  IpKey key;
  if (address.ss_family == AF_INET6) {
    const auto& v6 = reinterpret_cast<const sockaddr_in6&>(address);
    std::memcpy(key.bytes.data(), &v6.sin6_addr, 16);
  } else if (address.ss_family == AF_INET) {
    const auto& v4 = reinterpret_cast<const sockaddr_in&>(address);
    key.bytes[10] = 0xff;
    key.bytes[11] = 0xff;
    std::memcpy(key.bytes.data() + 12, &v4.sin_addr, 4);
  }
  return key;
}

size_t PerIpLimit::Hash::operator()(const IpKey& key) const {
  uint64_t high;
  uint64_t low;
  std::memcpy(&high, key.bytes.data(), 8);
  std::memcpy(&low, key.bytes.data() + 8, 8);
  return static_cast<size_t>((high * 0x9E3779B97F4A7C15ULL) ^ (low * 0xC2B2AE3D27D4EB4FULL));
}

bool PerIpLimit::tryAcquire(const IpKey& ip) {
  if (!enabled()) {
    return true;
  }
  Shard& shard = shardOf(ip);
  std::lock_guard<std::mutex> lock(shard.mutex);
  uint32_t& open = shard.open[ip];
  if (open >= max_per_ip_) {
    return false;
  }
  ++open;
  return true;
}

void PerIpLimit::release(const IpKey& ip) {
  if (!enabled()) {
    return;
  }
  Shard& shard = shardOf(ip);
  std::lock_guard<std::mutex> lock(shard.mutex);
  auto it = shard.open.find(ip);
  if (it != shard.open.end() && --it->second == 0) {
    shard.open.erase(it);
  }
}

}  // namespace reactord::server
