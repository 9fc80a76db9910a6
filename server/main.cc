// reactord: a sharded-reactor TCP echo / acknowledgement server.
#include <event2/thread.h>
#include <glog/logging.h>
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>

#include <chrono>
#include <memory>
#include <string>

#include "server/admin_server.h"
#include "server/flags.h"
#include "server/supervisor.h"
#include "server/worker_group.h"

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

}  // namespace

int main(int argc, char** argv) {
  using reactord::server::AdminServer;
  using reactord::server::Supervisor;
  using reactord::server::WorkerGroup;

  const auto started_wall = std::chrono::system_clock::now();
  const auto started = std::chrono::steady_clock::now();
  const reactord::server::ServerOptions options = reactord::server::parseCommandLine(&argc, &argv);

  // Before any thread exists: every thread inherits the mask, so these signals reach the
  // supervisor's signalfd only, never a handler on a worker.
  const sigset_t signals = Supervisor::handledSignals();
  PCHECK(pthread_sigmask(SIG_BLOCK, &signals, nullptr) == 0) << "pthread_sigmask";
  signal(SIGPIPE, SIG_IGN);
  CHECK_EQ(evthread_use_pthreads(), 0) << "evthread_use_pthreads";
  raiseOpenFileLimit();

  WorkerGroup workers(options);
  std::string error;
  if (!workers.listen(&error)) {
    LOG(ERROR) << error;
    return 1;
  }
  LOG(INFO) << "reactord " << REACTORD_VERSION
            << " protocol=" << reactord::common::protocolName(options.protocol)
            << " oneshot=" << options.oneshot << " max_connections=" << options.max_connections
            << " max_pending_bytes=" << options.max_pending_bytes
            << " idle_timeout_s=" << options.idle_timeout_s
            << " drain_timeout_s=" << options.drain_timeout_s;
  // Bound before any thread starts, so that a busy admin port fails the start cleanly; served
  // after the workers, on its own thread and base; the supervisor stops it last.
  std::unique_ptr<AdminServer> admin;
  if (options.admin_port != 0) {
    admin = std::make_unique<AdminServer>(options, workers, started_wall, started);
    if (!admin->listen(&error)) {
      LOG(ERROR) << error;
      return 1;
    }
  }
  // The supervisor takes the signals and the workers' drain reports, so it exists before them.
  Supervisor supervisor(workers, options, admin.get());
  workers.start(supervisor);
  // Logged once every descriptor of the running server is open (tests take their baseline here).
  LOG(INFO) << "listening on " << workers.address().toString() << " workers=" << options.workers;
  if (admin != nullptr) {
    admin->start();
    LOG(INFO) << "admin listening on " << admin->address().toString();
  }
  supervisor.start();
  supervisor.join();
  return 0;
}
