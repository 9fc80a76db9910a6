#pragma once

#include <chrono>
#include <mutex>
#include <string>
#include <thread>

#include "common/event_base_ptr.h"
#include "common/evhttp_ptr.h"
#include "common/socket_address.h"
#include "server/server_options.h"
#include "server/stats_report.h"
#include "server/worker_group.h"

struct evhttp_request;

namespace reactord::server {

// The HTTP admin endpoint (--admin_port): GET or HEAD of
//   /metrics  Prometheus text format 0.0.4     /stats    the same numbers as JSON
//   /healthz  200 while the process serves      /readyz   200 while accepting, 503 once draining
// Other methods get 405 (with Allow), other paths 404.
//
// Owns its own event_base (never a worker's), an evhttp on it with the listening socket, and the
// thread that runs them; every evhttp call happens on that thread, or on the main thread before it
// starts and after it was joined. Reads the WorkerGroup's counters and drain flag (thread-safe
// calls). Constructed and destroyed on the main thread; the WorkerGroup outlives it. Scrapes cost
// the workers nothing: counters are read with relaxed loads, no message is posted to a worker.
class AdminServer {
 public:
  AdminServer(const ServerOptions& options, const WorkerGroup& workers,
              std::chrono::system_clock::time_point started_wall,
              std::chrono::steady_clock::time_point started);
  ~AdminServer();
  AdminServer(const AdminServer&) = delete;
  AdminServer& operator=(const AdminServer&) = delete;

  // Main-thread-only, before start(): binds --admin_bind:--admin_port. On failure returns false
  // with `error` naming the address and the reason.
  bool listen(std::string* error);
  // The bound address (the real port when any free port was asked for). Valid after listen().
  const common::SocketAddress& address() const { return address_; }
  // Main-thread-only: serves requests on the admin thread from now on.
  void start();
  // Thread-safe: leaves the loop (requests in progress are dropped) and joins the thread.
  // Idempotent; also done by the destructor.
  void stop();

 private:
  static void onRequest(evhttp_request* request, void* self);
  void handleRequest(evhttp_request* request);
  StatsReport report() const;

  const ServerOptions options_;
  const WorkerGroup& workers_;
  const std::chrono::system_clock::time_point started_wall_;
  const std::chrono::steady_clock::time_point started_;
  common::SocketAddress address_;

  common::EventBasePtr base_;  // declared before http_: destroyed after it
  common::EvhttpPtr http_;

  std::mutex thread_mutex_;  // guards thread_ against concurrent stop() calls
  std::thread thread_;
};

}  // namespace reactord::server
