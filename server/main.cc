// reactord: a sharded-reactor TCP echo / acknowledgement server.
#include <event2/thread.h>
#include <fcntl.h>
#include <glog/logging.h>
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>

#include <cerrno>
#include <chrono>
#include <memory>
#include <string>

#include "server/admin_server.h"
#include "server/flags.h"
#include "server/server.h"
#include "server/supervisor.h"

namespace {

// A process started with descriptor 0, 1 or 2 closed (`2>&-`, as careless init scripts do) would
// give that number to its first socket, and glog, which writes to 2, would write log lines into a
// client's connection. Each closed one is opened on /dev/null, as daemons do. Runs before anything
// else opens a descriptor (flagfiles included); false when /dev/null cannot be opened.
bool openStandardDescriptors() {
  for (int fd = 0; fd <= 2; ++fd) {
    // open() returns the lowest free number, which is `fd`: the ones below it are open by now.
    if (fcntl(fd, F_GETFD) == -1 && errno == EBADF && open("/dev/null", O_RDWR) != fd) {
      return false;
    }
  }
  return true;
}

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

}  // namespace

int main(int argc, char** argv) {
  using reactord::server::AdminServer;
  using reactord::server::Server;
  using reactord::server::Supervisor;

  if (!openStandardDescriptors()) {
    return 1;  // nowhere to say so: stderr is one of the closed ones
  }
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

  Server server(options);
  std::string error;
  if (!server.listen(&error)) {
    LOG(ERROR) << error;
    return 1;
  }
  LOG(INFO) << "reactord " << REACTORD_VERSION << " protocol=" << protocolName(options.protocol)
            << " oneshot=" << options.oneshot << " max_connections=" << options.max_connections
            << " max_pending_bytes=" << options.max_pending_bytes
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
  if (!server.start(&error)) {
    LOG(ERROR) << error;
    return 1;
  }
  if (admin != nullptr) {
    if (!admin->start(&error)) {
      LOG(ERROR) << error;
      server.stop();
      server.join();
      return 1;
    }
    LOG(INFO) << "admin listening on " << admin->address().toString();
  }
  Supervisor supervisor(server, options, admin.get());
  if (!supervisor.start(&error)) {
    LOG(ERROR) << error;
    server.stop();
    server.join();
    return 1;  // the admin endpoint is stopped by its destructor
  }
  return supervisor.join();
}
