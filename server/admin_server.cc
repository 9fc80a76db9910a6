#include "server/admin_server.h"

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <glog/logging.h>
#include <pthread.h>

#include <string_view>

#include "common/listen_socket.h"
#include "common/prometheus_writer.h"

namespace reactord::server {
namespace {

constexpr int kBacklog = 64;
constexpr int kRequestTimeoutS = 10;  // a client that sends nothing is dropped after this
constexpr size_t kMaxHeadersBytes = size_t{8} * 1024;
constexpr size_t kMaxBodyBytes = 1024;  // GET and HEAD carry none
constexpr const char* kJson = "application/json";
constexpr const char* kText = "text/plain; charset=utf-8";

// Every method evhttp parses reaches onRequest, so that each gets a 405 with its Allow header.
constexpr ev_uint16_t kAllMethods = EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD |
                                    EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS |
                                    EVHTTP_REQ_TRACE | EVHTTP_REQ_CONNECT | EVHTTP_REQ_PATCH;

// Sends the response; for HEAD, the headers of the GET response (Content-Length included), no body.
void reply(evhttp_request* request, int code, const char* reason, const char* content_type,
           const std::string& body) {
  evkeyvalq* headers = evhttp_request_get_output_headers(request);
  evhttp_add_header(headers, "Content-Type", content_type);
  evhttp_add_header(headers, "Content-Length", std::to_string(body.size()).c_str());
  evhttp_add_header(headers, "Cache-Control", "no-store");
  if (evhttp_request_get_command(request) != EVHTTP_REQ_HEAD) {
    evbuffer_add(evhttp_request_get_output_buffer(request), body.data(), body.size());
  }
  evhttp_send_reply(request, code, reason, nullptr);
}

std::string_view pathOf(evhttp_request* request) {
  const evhttp_uri* uri = evhttp_request_get_evhttp_uri(request);
  const char* path = uri != nullptr ? evhttp_uri_get_path(uri) : nullptr;
  return path != nullptr ? path : "";
}

}  // namespace

AdminServer::AdminServer(const ServerOptions& options, const WorkerGroup& workers,
                         std::chrono::system_clock::time_point started_wall,
                         std::chrono::steady_clock::time_point started)
    : options_(options),
      workers_(workers),
      started_wall_(started_wall),
      started_(started),
      base_(event_base_new()),
      http_(base_ != nullptr ? evhttp_new(base_.get()) : nullptr) {
  CHECK(base_ != nullptr) << "event_base_new for the admin endpoint";
  CHECK(http_ != nullptr) << "evhttp_new for the admin endpoint";
  evhttp_set_allowed_methods(http_.get(), kAllMethods);
  evhttp_set_timeout(http_.get(), kRequestTimeoutS);
  evhttp_set_max_headers_size(http_.get(), kMaxHeadersBytes);
  evhttp_set_max_body_size(http_.get(), kMaxBodyBytes);
  evhttp_set_gencb(http_.get(), &AdminServer::onRequest, this);
}

AdminServer::~AdminServer() { stop(); }

bool AdminServer::listen(std::string* error) {
  const uint16_t port = options_.admin_port == kAdminAnyPort ? 0 : options_.admin_port;
  auto address = common::SocketAddress::parse(options_.admin_bind, port);
  if (!address) {
    *error = "--admin_bind=" + options_.admin_bind + " is not an IPv4 or IPv6 address";
    return false;
  }
  // Without SO_REUSEPORT: a port in use, even by our own workers' group, fails with EADDRINUSE.
  common::ListenResult result = common::openListenSocket(*address, kBacklog, /*reuse_port=*/false);
  if (!result.fd.valid()) {
    *error = "admin endpoint: " + result.error;
    return false;
  }
  const auto bound = common::SocketAddress::localOf(result.fd.get());
  CHECK(bound.has_value()) << "getsockname on the admin listener";
  address_ = *bound;
  // evhttp takes the socket over and closes it when it is freed.
  CHECK(evhttp_accept_socket_with_handle(http_.get(), result.fd.get()) != nullptr)
      << "evhttp_accept_socket on " << address_.toString();
  result.fd.release();
  return true;
}

void AdminServer::start() {
  std::lock_guard<std::mutex> lock(thread_mutex_);
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "reactord-admin");
    event_base_dispatch(base_.get());
    VLOG(1) << "admin endpoint left its loop";
  });
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
}

void AdminServer::onRequest(evhttp_request* request, void* self) {
  static_cast<AdminServer*>(self)->handleRequest(request);
}

void AdminServer::handleRequest(evhttp_request* request) {
  const evhttp_cmd_type method = evhttp_request_get_command(request);
  if (method != EVHTTP_REQ_GET && method != EVHTTP_REQ_HEAD) {
    evhttp_add_header(evhttp_request_get_output_headers(request), "Allow", "GET, HEAD");
    reply(request, 405, "Method Not Allowed", kText, "method not allowed: use GET or HEAD\n");
    return;
  }
  const std::string_view path = pathOf(request);
  if (path == "/metrics") {
    reply(request, 200, "OK", common::PrometheusWriter::kContentType, formatPrometheus(report()));
  } else if (path == "/stats") {
    reply(request, 200, "OK", kJson, formatStatsJson(report()) + "\n");
  } else if (path == "/healthz") {
    reply(request, 200, "OK", kText, "ok\n");
  } else if (path == "/readyz") {
    if (workers_.draining()) {
      reply(request, 503, "Service Unavailable", kText, "draining\n");
    } else {
      reply(request, 200, "OK", kText, "ready\n");
    }
  } else {
    reply(request, 404, "Not Found", kText,
          "not found; try /metrics, /stats, /healthz or /readyz\n");
  }
}

StatsReport AdminServer::report() const {
  StatsReport report;
  report.workers = workers_.snapshots();
  report.workers_source = options_.workers_source;
  report.version = REACTORD_VERSION;
  report.draining = workers_.draining();
  report.start_time_s = std::chrono::duration<double>(started_wall_.time_since_epoch()).count();
  report.uptime_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
  return report;
}

}  // namespace reactord::server
