// reactord: a sharded-reactor TCP echo / acknowledgement server.
#include <event2/thread.h>
#include <glog/logging.h>
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>

#include <string>

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

}  // namespace

int main(int argc, char** argv) {
  using reactord::server::Server;
  using reactord::server::Supervisor;

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
  server.start();
  Supervisor supervisor(server, options);
  supervisor.start();
  return supervisor.join();
}
