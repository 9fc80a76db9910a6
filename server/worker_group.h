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
#include "server/takeover.h"
#include "server/watchdog.h"
#include "server/worker.h"
#include "server/worker_stats.h"

namespace reactord::server {

// The workers and what they share: the SO_REUSEPORT Listeners on one address (one per worker when
// it opens them; those taken over from another process, plus more up to one per worker, after a
// takeover), the process-wide connection limits, and the fan-out of the supervisor's commands to
// every worker with post(). As a TakeoverHost it hands its listeners over to a newer process.
// Constructed and destroyed on the main thread; listen(), adoptListeners() and start() are
// main-thread-only, the rest is thread-safe (called by the supervisor, admin and control threads).
class WorkerGroup final : public TakeoverHost {
 public:
  explicit WorkerGroup(const ServerOptions& options);
  ~WorkerGroup();
  WorkerGroup(const WorkerGroup&) = delete;
  WorkerGroup& operator=(const WorkerGroup&) = delete;

  // Opens the listeners. On failure returns false with `error` naming the address and the reason;
  // nothing is left open.
  bool listen(std::string* error);
  // Instead of listen(): serves `received`, the listening sockets taken over from another process
  // (all bound to `address`), and opens more beside them with SO_REUSEPORT up to one per worker.
  // False with `error` set when one more cannot be opened.
  bool adoptListeners(std::vector<common::UniqueFd> received, const common::SocketAddress& address,
                      std::string* error);
  // The bound address (with the real port when --port=0). Valid after listen().
  const common::SocketAddress& address() const { return address_; }
  // Creates the workers on the listeners (listener i goes to worker i % workers, so a worker may
  // serve several) and starts their threads; they report the drain's progress to
  // `drain_observer`, which must outlive them. When one cannot be made or started, stops and
  // joins those that were and returns false with `error` naming the worker and what to change.
  bool start(DrainObserver& drain_observer, std::string* error);
  int workerCount() const { return static_cast<int>(workers_.size()); }

  // Thread-safe. endReadiness(), beginDrain() and stop() end readiness: draining() (what /readyz
  // reports) is true from their first instruction on. endReadiness() alone leaves the listeners
  // accepting and serving (the drain delay).
  void endReadiness() { draining_ = true; }
  void beginDrain();
  void stop();
  void join();
  bool draining() const { return draining_.load(); }
  std::vector<WorkerCounts> snapshots() const;
  // Each worker's memory against its share of the buffer budget.
  std::vector<MemoryGauges> memoryGauges() const;
  // Open connections now, summed over the workers' counters.
  uint64_t activeConnections() const;
  int listenerCount() const { return static_cast<int>(listeners_.size()); }

  // TakeoverHost, called by the control server's session thread.
  std::optional<std::string> refusal() override;
  std::vector<common::UniqueFd> duplicateListeners(common::SocketAddress* address) override;
  // Every worker stops accepting and closes its listeners (posted); returns once all did, or after
  // a deadline (logged). Ends readiness like a drain.
  void stopAccepting() override;
  // Process-wide counters: listeners handed over to a newer process (0 or 1: it drains after one)
  // and taken over from an older one (0 or 1). Thread-safe.
  uint64_t takeoversServed() const { return takeovers_served_.load(); }
  uint64_t takeoversReceived() const { return takeovers_received_.load(); }
  // After start(): each worker's probe and listeners, for the supervisor's Watchdog.
  std::vector<WatchedWorker> watched() const;
  // Each worker's gauges now (accept queues, a stall in progress), read from outside. Empty
  // before start().
  std::vector<WorkerGauges> currentGauges() const;

 private:
  const ServerOptions options_;
  common::SocketAddress address_;
  ConnectionLimit limit_;
  PerIpLimit per_ip_limit_;
  std::atomic<bool> draining_{false};
  std::atomic<uint64_t> takeovers_served_{0};
  std::atomic<uint64_t> takeovers_received_{0};
  std::vector<std::unique_ptr<Listener>> listeners_;  // declared before workers_: outlive them
  std::vector<std::unique_ptr<Worker>> workers_;
};

}  // namespace reactord::server
