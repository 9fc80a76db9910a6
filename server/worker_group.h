#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "common/socket_address.h"
#include "server/connection_limit.h"
#include "server/listener.h"
#include "server/per_ip_limit.h"
#include "server/server_options.h"
#include "server/worker.h"
#include "server/worker_stats.h"

namespace reactord::server {

// The workers and what they share: one SO_REUSEPORT Listener per worker on the same address, the
// process-wide connection limits, and the fan-out of the supervisor's commands to every worker
// with post(). Constructed and destroyed on the main thread; listen() and start() are
// main-thread-only, the rest is thread-safe (called by the supervisor and admin threads).
class WorkerGroup {
 public:
  explicit WorkerGroup(const ServerOptions& options);
  ~WorkerGroup();
  WorkerGroup(const WorkerGroup&) = delete;
  WorkerGroup& operator=(const WorkerGroup&) = delete;

  // Opens the listeners. On failure returns false with `error` naming the address and the reason;
  // nothing is left open.
  bool listen(std::string* error);
  // The bound address (with the real port when --port=0). Valid after listen().
  const common::SocketAddress& address() const { return address_; }
  // Creates the workers on the listeners and starts their threads; they report the drain's
  // progress to `drain_observer`, which must outlive them.
  void start(DrainObserver& drain_observer);
  int workerCount() const { return static_cast<int>(workers_.size()); }

  // Thread-safe. beginDrain() and stop() end readiness: draining() is true from their first
  // instruction on.
  void beginDrain();
  void stop();
  void join();
  bool draining() const { return draining_.load(); }
  std::vector<WorkerCounts> snapshots() const;
  // Open connections now, summed over the workers' counters.
  uint64_t activeConnections() const;

 private:
  const ServerOptions options_;
  common::SocketAddress address_;
  ConnectionLimit limit_;
  PerIpLimit per_ip_limit_;
  std::atomic<bool> draining_{false};
  std::vector<std::unique_ptr<Listener>> listeners_;  // declared before workers_: outlive them
  std::vector<std::unique_ptr<Worker>> workers_;
};

}  // namespace reactord::server
