#include "server/admin_server.h"

#include <glog/logging.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <string_view>

#include "common/listen_counters.h"
#include "common/listen_socket.h"
#include "common/process_stats.h"
#include "common/prometheus_writer.h"
#include "common/raw_io.h"
#include "server/startup_error.h"

namespace reactord::server {
namespace {

constexpr int kBacklog = 64;
// Accepts per readiness event: the rest wait for the next pass of the loop.
constexpr int kAcceptsPerEvent = 16;
// Pause after EMFILE/ENFILE/ENOBUFS/ENOMEM: the listener stays readable while the error lasts, so
// accepting again at once would spin (as evhttp's listener did: a core, 20 MB of log a second).
constexpr timeval kAcceptRetryDelay = {0, 100000};
constexpr const char* kJson = "application/json";
constexpr const char* kText = "text/plain; charset=utf-8";

}  // namespace

AdminServer::AdminServer(const ServerOptions& options, const WorkerGroup& workers,
                         std::chrono::system_clock::time_point started_wall,
                         std::chrono::steady_clock::time_point started)
    : options_(options), workers_(workers), started_wall_(started_wall), started_(started) {}

AdminServer::~AdminServer() { stop(); }

bool AdminServer::listen(std::string* error) {
  const uint16_t port = options_.admin_port == kAdminAnyPort ? 0 : options_.admin_port;
  auto address = common::SocketAddress::parse(options_.admin_bind, port);
  if (!address) {
    *error = "--admin_bind=" + options_.admin_bind + " is not an IPv4 or IPv6 address";
    return false;
  }
  std::string why;
  if (base_ == nullptr) {  // made once: listen() may be tried again after a takeover
    base_ = common::makeEventBase(common::BaseLocking::kLocked, &why);
  }
  if (base_ == nullptr) {
    const int failure = errno;
    *error = "admin endpoint: " + why + resourceHint(failure);
    return false;
  }
  // Without SO_REUSEPORT: a port in use, even by our own workers' group, fails with EADDRINUSE.
  common::ListenResult result = common::openListenSocket(*address, kBacklog, /*reuse_port=*/false);
  if (!result.fd.valid()) {
    *error = "admin endpoint: " + result.error + resourceHint(result.error_number);
    return false;
  }
  const auto bound = common::SocketAddress::localOf(result.fd.get());
  CHECK(bound.has_value()) << "getsockname on the admin listener";
  address_ = *bound;
  listen_fd_ = std::move(result.fd);
  listen_event_.assign(base_.get(), listen_fd_.get(), EV_READ | EV_PERSIST,
                       &AdminServer::onAcceptable, this);
  listen_event_.add();
  accept_retry_event_.assign(base_.get(), -1, 0, &AdminServer::onAcceptRetry, this);
  return true;
}

bool AdminServer::start(std::string* error) {
  std::lock_guard<std::mutex> lock(thread_mutex_);
  return startThread(
      &thread_,
      [this] {
        pthread_setname_np(pthread_self(), "reactord-admin");
        event_base_dispatch(base_.get());
        VLOG(1) << "admin endpoint left its loop";
      },
      "the admin endpoint", error);
}

void AdminServer::stop() {
  std::lock_guard<std::mutex> lock(thread_mutex_);
  if (!thread_.joinable()) {
    return;
  }
  // The base has locks (evthread_use_pthreads ran before it was made): loopexit is thread-safe,
  // and unlike loopbreak it is not lost when the loop has not started yet.
  event_base_loopexit(base_.get(), nullptr);
  thread_.join();
  // The loop is gone, so no other thread uses these now: close the listening socket, so that a
  // process that took this one's place can bind the same admin port at once.
  listen_event_.reset();
  accept_retry_event_.reset();
  listen_fd_.reset();
}

void AdminServer::onAcceptable(int /*fd*/, short /*what*/, void* self) {
  auto* admin = static_cast<AdminServer*>(self);
  for (int i = 0; i < kAcceptsPerEvent && admin->acceptOne(); ++i) {
  }
}

bool AdminServer::acceptOne() {
  sockaddr_storage peer{};
  socklen_t peer_length = sizeof peer;
  const int fd = ::accept4(listen_fd_.get(), reinterpret_cast<sockaddr*>(&peer), &peer_length,
                           SOCK_NONBLOCK | SOCK_CLOEXEC);
  if (fd >= 0) {
    common::UniqueFd connection(fd);
    if (connections_.size() >= options_.admin_max_connections) {
      reject(std::move(connection), peer);
      return true;
    }
    counters_.accepted.add();
    const timeval deadline = {options_.admin_timeout_s, 0};
    connections_.push_back(
        std::make_unique<AdminConnection>(*this, base_.get(), std::move(connection), deadline));
    return true;
  }
  const int error = errno;
  if (error == EAGAIN) {
    return false;
  }
  counters_.accept_errors.add();
  LOG_EVERY_T(WARNING, 1) << "admin endpoint: accept: " << std::strerror(error)
                          << " (admin accept errors so far: " << counters_.accept_errors.get()
                          << ")";
  if (error == EMFILE || error == ENFILE || error == ENOBUFS || error == ENOMEM) {
    listen_event_.remove();
    accept_retry_event_.add(&kAcceptRetryDelay);
    return false;
  }
  return true;  // ECONNABORTED, EINTR, EPROTO and the like concern one connection: go on
}

void AdminServer::onAcceptRetry(int /*fd*/, short /*what*/, void* self) {
  static_cast<AdminServer*>(self)->listen_event_.add();
}

void AdminServer::reject(common::UniqueFd fd, const sockaddr_storage& peer) {
  counters_.rejected.add();
  LOG_EVERY_T(WARNING, 1) << "admin endpoint: " << connections_.size()
                          << " connections open (--admin_max_connections), refusing the one from "
                          << common::SocketAddress::of(peer).toString()
                          << " (admin rejections so far: " << counters_.rejected.get() << ")";
  // What has arrived is read first: a close with unread input would reset the connection, and a
  // reset can destroy the answer before the client reads it.
  char request[AdminConnection::kMaxHeadBytes];
  (void)common::rawRead(fd.get(), request, sizeof request);
  const std::string response =
      textResponse(503, "Service Unavailable",
                   "busy: --admin_max_connections admin connections are open; retry later\n");
  (void)common::rawSend(fd.get(), response.data(), response.size());
}  // closed by fd's destructor

void AdminServer::removeConnection(AdminConnection* connection) {
  const auto it = std::find_if(connections_.begin(), connections_.end(),
                               [&](const auto& owned) { return owned.get() == connection; });
  DCHECK(it != connections_.end());
  connections_.erase(it);
  counters_.closed.add();
}

std::string AdminServer::respond(const common::HttpRequestHead& head) const {
  const std::string date = common::httpDate(std::time(nullptr));
  const bool with_body = head.method != "HEAD";
  if (head.method != "GET" && head.method != "HEAD") {
    return common::formatHttpResponse(405, "Method Not Allowed", date, kText,
                                      "method not allowed: use GET or HEAD\n",
                                      "Allow: GET, HEAD\r\n", true);
  }
  const auto ok = [&](const char* type, const std::string& body) {
    return common::formatHttpResponse(200, "OK", date, type, body, "", with_body);
  };
  if (head.path == "/metrics") {
    return ok(common::PrometheusWriter::kContentType, formatPrometheus(report()));
  }
  if (head.path == "/stats") {
    return ok(kJson, formatStatsJson(report()) + "\n");
  }
  if (head.path == "/healthz") {
    return ok(kText, "ok\n");
  }
  if (head.path == "/readyz") {
    if (workers_.draining()) {
      return common::formatHttpResponse(503, "Service Unavailable", date, kText, "draining\n", "",
                                        with_body);
    }
    return ok(kText, "ready\n");
  }
  return common::formatHttpResponse(404, "Not Found", date, kText,
                                    "not found; try /metrics, /stats, /healthz or /readyz\n", "",
                                    with_body);
}

StatsReport AdminServer::report() const {
  StatsReport report;
  report.workers = workers_.snapshots();
  report.admin = counters_.snapshot();
  report.workers_source = options_.workers_source;
  report.memory = workers_.memoryGauges();
  report.memory_limit_bytes = options_.memory_limit_bytes;
  report.memory_limit_source = options_.memory_limit_source;
  report.version = REACTORD_VERSION;
  report.draining = workers_.draining();
  report.takeovers_served = workers_.takeoversServed();
  report.takeovers_received = workers_.takeoversReceived();
  report.start_time_s = std::chrono::duration<double>(started_wall_.time_since_epoch()).count();
  report.uptime_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
  std::string error;
  report.process = common::readProcessStats(&error);
  if (!report.process) {
    LOG_EVERY_T(WARNING, 60) << "admin endpoint: no process_* series: " << error;
  }
  report.options = options_;
  report.gauges = workers_.currentGauges();
  report.listen = common::readListenCounters(&error);
  if (!report.listen) {
    LOG_EVERY_T(WARNING, 60) << "admin endpoint: no listen counters: " << error;
  }
  return report;
}

}  // namespace reactord::server
