#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/event.h"
#include "common/event_base_ptr.h"
#include "common/http_message.h"
#include "common/socket_address.h"
#include "common/unique_fd.h"
#include "server/admin_connection.h"
#include "server/admin_stats.h"
#include "server/server_options.h"
#include "server/stats_report.h"
#include "server/worker_group.h"

namespace reactord::server {

// The HTTP admin endpoint (--admin_port): GET or HEAD of
//   /metrics  Prometheus text format 0.0.4     /stats    the same numbers as JSON
//   /healthz  200 while the process serves      /readyz   200 while accepting, 503 once draining
// Any other method gets 405 (with Allow), any other path 404. One request per connection
// (Connection: close).
//
// Bounded, so that whoever reaches the port cannot take the process's descriptors or its admin
// thread: at most --admin_max_connections open at once (one more is answered 503 and closed at
// once, counted as rejected); each lives --admin_timeout_s at most from accept, however it
// trickles; a request head is 8 KiB at most. When accept() fails for want of descriptors or
// memory, accepting pauses for 100 ms and the failure is logged at most once a second.
//
// Owns its own event_base (never a worker's), the listening socket, the open admin connections
// and the thread that runs them; everything but the thread-safe calls happens on that thread, or
// on the main thread before it starts and after it was joined. Reads the WorkerGroup's counters and
// drain flag (thread-safe calls); a scrape posts nothing to a worker. Constructed and destroyed on
// the main thread; the WorkerGroup outlives it.
class AdminServer {
 public:
  AdminServer(const ServerOptions& options, const WorkerGroup& workers,
              std::chrono::system_clock::time_point started_wall,
              std::chrono::steady_clock::time_point started);
  ~AdminServer();
  AdminServer(const AdminServer&) = delete;
  AdminServer& operator=(const AdminServer&) = delete;

  // Main-thread-only, before start(): makes the event loop and binds --admin_bind:--admin_port.
  // On failure returns false with `error` naming the address and the reason.
  bool listen(std::string* error);
  // The bound address (the real port when any free port was asked for). Valid after listen().
  const common::SocketAddress& address() const { return address_; }
  // True once listen() succeeded (the bound port is never 0).
  bool bound() const { return address_.port() != 0; }
  // Main-thread-only: serves requests on the admin thread from now on; false with `error` when
  // the thread cannot be started.
  bool start(std::string* error);
  // Thread-safe: leaves the loop (requests in progress are dropped), joins the thread and closes
  // the listening socket (so that a process that took this one's place can bind the port).
  // Idempotent; also done by the destructor.
  void stop();
  // Thread-safe: the endpoint's own counters.
  AdminCounts stats() const { return counters_.snapshot(); }

  // For the admin connections (admin thread).
  std::string respond(const common::HttpRequestHead& head) const;
  AdminStats& counters() { return counters_; }
  void removeConnection(AdminConnection* connection);

 private:
  static void onAcceptable(int fd, short what, void* self);
  static void onAcceptRetry(int fd, short what, void* self);
  // Accepts one connection; false when the queue is empty or accepting had to pause.
  bool acceptOne();
  void reject(common::UniqueFd fd, const sockaddr_storage& peer);
  StatsReport report() const;

  const ServerOptions options_;
  const WorkerGroup& workers_;
  const std::chrono::system_clock::time_point started_wall_;
  const std::chrono::steady_clock::time_point started_;
  common::SocketAddress address_;
  AdminStats counters_;

  common::EventBasePtr base_;  // declared before every event and connection: destroyed last
  common::UniqueFd listen_fd_;
  common::Event listen_event_;
  common::Event accept_retry_event_;  // re-enables accepting after EMFILE and the like
  std::vector<std::unique_ptr<AdminConnection>> connections_;  // --admin_max_connections at most

  std::mutex thread_mutex_;  // guards thread_ against concurrent stop() calls
  std::thread thread_;
};

}  // namespace reactord::server
