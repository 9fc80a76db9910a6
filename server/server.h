#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "common/socket_address.h"
#include "common/stats.h"
#include "server/connection_limit.h"
#include "server/server_options.h"
#include "server/worker.h"

namespace reactord::server {

// The workers and their shared pieces: opens one SO_REUSEPORT listener per worker on the same
// address, starts the workers, and fans the supervisor's commands out to them with post().
// Constructed and destroyed on the main thread; listen() and start() are main-thread-only, the
// rest is thread-safe (called by the supervisor thread).
class Server {
 public:
  explicit Server(const ServerOptions& options);
  ~Server();

  // Opens the listeners and creates the workers. On failure returns false with `error` naming the
  // address and the reason; nothing is left open.
  bool listen(std::string* error);
  // The bound address (with the real port when --port=0). Valid after listen().
  const common::SocketAddress& address() const { return address_; }
  void start();

  // Thread-safe. beginDrain() and stop() end readiness: draining() is true from their first
  // instruction on.
  void beginDrain();
  void stop();
  void join();
  bool listenersClosed() const { return listeners_open_.load() == 0; }
  bool draining() const { return draining_.load(); }
  uint64_t activeConnections() const;
  std::vector<common::StatsSnapshot> snapshots() const;
  // Each worker's memory against its share of the buffer budget.
  std::vector<common::MemoryGauges> memoryGauges() const;

 private:
  const ServerOptions options_;
  common::SocketAddress address_;
  ConnectionLimit limit_;
  PerIpLimit per_ip_limit_;
  std::atomic<int> listeners_open_{0};
  std::atomic<bool> draining_{false};
  std::vector<std::unique_ptr<Worker>> workers_;
};

}  // namespace reactord::server
