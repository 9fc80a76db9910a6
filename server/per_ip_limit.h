#pragma once

#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <unordered_map>

namespace reactord::server {

// A peer's IP address as 16 bytes (IPv4 as ::ffff:a.b.c.d), so that the same client counts once
// whichever family its connections use.
struct IpKey {
  std::array<uint8_t, 16> bytes{};

  static IpKey from(const sockaddr_storage& address);
  friend bool operator==(const IpKey&, const IpKey&) = default;
};

// The cap on open connections per client address (--max_connections_per_ip), process-wide: one
// client's connections land on different workers. Thread-safe: a table split in shards, each
// with its own mutex, touched once per accept and per close, never per message. Owned by Server,
// which outlives the workers. A limit of 0 turns it off (no locking at all).
class PerIpLimit {
 public:
  explicit PerIpLimit(uint32_t max_per_ip) : max_per_ip_(max_per_ip) {}

  bool enabled() const { return max_per_ip_ != 0; }
  // Takes one slot for `ip`; false (nothing taken) when it already has max_per_ip connections.
  bool tryAcquire(const IpKey& ip);
  void release(const IpKey& ip);

 private:
  struct Hash {
    size_t operator()(const IpKey& key) const;
  };
  struct alignas(64) Shard {
    std::mutex mutex;
    std::unordered_map<IpKey, uint32_t, Hash> open;  // guarded by mutex; no zero entries
  };
  static constexpr size_t kShards = 16;

  Shard& shardOf(const IpKey& ip) { return shards_[Hash{}(ip) % kShards]; }

  const uint32_t max_per_ip_;
  std::array<Shard, kShards> shards_;
};

}  // namespace reactord::server
