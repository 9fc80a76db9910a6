// reactord: a sharded-reactor TCP echo / acknowledgement server.
#include <event2/thread.h>
#include <glog/logging.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>

#include <chrono>
#include <memory>
#include <string>

#include "server/admin_server.h"
#include "server/flags.h"
#include "server/server.h"
#include "server/supervisor.h"

namespace {

// Connections are file descriptors: take the whole hard limit the process is allowed.
void raiseOpenFileLimit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &limit) != 0) {
      PLOG(WARNING) << "setrlimit(RLIMIT_NOFILE)";
    }
  }
  getrlimit(RLIMIT_NOFILE, &limit);
  LOG(INFO) << "open-file limit " << limit.rlim_cur;
}

const char* protocolName(reactord::server::Protocol protocol) {
  return protocol == reactord::server::Protocol::kAck ? "ack" : "echo";
}

// Output buffers of a read (64 KiB) or more get their own mapping: grown in place by realloc's
// mremap, given back to the system as soon as they are freed. glibc's default threshold starts at
// 128 KiB and rises to the size of each mapping freed, after which such buffers come from the
// heap, where growing leaves the smaller blocks behind (a slow reader measured 390 KiB of RSS
// against its 320 KiB buffer) and freed memory stays with the process.
void keepLargeBuffersMapped() {
  if (mallopt(M_MMAP_THRESHOLD, 64 * 1024) != 1) {
    LOG(WARNING) << "mallopt(M_MMAP_THRESHOLD) failed: freed output buffers may stay in the heap";
  }
}

}  // namespace

int main(int argc, char** argv) {
  using reactord::server::AdminServer;
  using reactord::server::Server;
  using reactord::server::Supervisor;

  const auto started_wall = std::chrono::system_clock::now();
  const auto started = std::chrono::steady_clock::now();
  const reactord::server::ServerOptions options = reactord::server::parseCommandLine(&argc, &argv);

  // Before any thread exists: every thread inherits the mask, so these signals reach the
  // supervisor's sigtimedwait only, never a handler on a worker.
  const sigset_t signals = Supervisor::handledSignals();
  PCHECK(pthread_sigmask(SIG_BLOCK, &signals, nullptr) == 0) << "pthread_sigmask";
  signal(SIGPIPE, SIG_IGN);
  CHECK_EQ(evthread_use_pthreads(), 0) << "evthread_use_pthreads";
  raiseOpenFileLimit();
  keepLargeBuffersMapped();

  Server server(options);
  std::string error;
  if (!server.listen(&error)) {
    LOG(ERROR) << error;
    return 1;
  }
  LOG(INFO) << "reactord " << REACTORD_VERSION << " protocol=" << protocolName(options.protocol)
            << " oneshot=" << options.oneshot << " max_connections=" << options.max_connections
            << " max_pending_bytes=" << options.max_pending_bytes
            << " max_buffered_bytes=" << options.max_buffered_bytes
            << " idle_timeout_s=" << options.idle_timeout_s
            << " drain_timeout_s=" << options.drain_timeout_s;
  LOG(INFO) << "listening on " << server.address().toString() << " workers=" << options.workers;
  // Bound before any thread starts, so that a busy admin port fails the start cleanly; served
  // after the workers, on its own thread and base; the supervisor stops it last.
  std::unique_ptr<AdminServer> admin;
  if (options.admin_port != 0) {
    admin = std::make_unique<AdminServer>(options, server, started_wall, started);
    if (!admin->listen(&error)) {
      LOG(ERROR) << error;
      return 1;
    }
  }
  server.start();
  if (admin != nullptr) {
    admin->start();
    LOG(INFO) << "admin listening on " << admin->address().toString();
  }
  Supervisor supervisor(server, options, admin.get());
  supervisor.start();
  return supervisor.join();
}
