#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <vector>

#include "tests/support/test_client.h"

namespace reactord::testing {

// N echo clients driven by one poll loop: each streams a pattern of its own (byte i of client c is
// a function of c and i, so any loss, duplication or reordering shows), keeps at most a window of
// bytes in flight, and checks every byte that comes back. Test-thread-only, except the atomics.
class EchoLoad {
 public:
  struct Client {
    TestClient socket;
    uint32_t seed = 0;
    uint64_t sent = 0;
    uint64_t received = 0;
    bool closes = true;       // half-closes when told to; false: keeps sending until the end
    bool write_shut = false;  // shut our side
    bool eof = false;         // the server closed, cleanly
    bool failed = false;      // a reset or another error
    bool mismatch = false;    // a byte came back that was not sent there
    std::chrono::steady_clock::time_point close_at{};  // when it half-closes (if it closes)
  };

  // Connects `count` clients to 127.0.0.1:port; the first `stubborn` ones never close.
  EchoLoad(uint16_t port, int count, int stubborn = 0);

  // Runs until every client finished (EOF or error) or `timeout` passed. Once `close_after` is
  // set, each closing client half-closes at a random moment within `close_spread` of it.
  void run(std::chrono::milliseconds timeout);
  void closeSoon(std::chrono::milliseconds close_spread) {
    close_spread_ms_ = close_spread.count();
  }
  void stop() { stop_ = true; }

  std::vector<Client>& clients() { return clients_; }
  // Thread-safe: bytes echoed back so far, over all clients.
  uint64_t echoed() const { return echoed_.load(); }

 private:
  void onWritable(Client& client);
  void onReadable(Client& client);

  std::vector<Client> clients_;
  std::atomic<long> close_spread_ms_{-1};
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> echoed_{0};
};

// Byte `index` of the stream of client `seed`.
inline char patternByte(uint32_t seed, uint64_t index) {
  uint64_t x = index * 0x9E3779B97F4A7C15ULL + seed * 0xBF58476D1CE4E5B9ULL;
  x ^= x >> 29;
  return static_cast<char>(x >> 7);
}

}  // namespace reactord::testing
