// reactord: a sharded-reactor TCP echo / acknowledgement server.
#include <event2/thread.h>
#include <fcntl.h>
#include <glog/logging.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "server/admin_server.h"
#include "server/control_server.h"
#include "server/control_socket.h"
#include "server/flags.h"
#include "server/status_file.h"
#include "server/supervisor.h"
#include "server/worker_group.h"

namespace {

using reactord::server::AdminServer;
using reactord::server::ControlServer;
using reactord::server::ControlSocket;
using reactord::server::ServerOptions;
using reactord::server::TakeoverClient;
using reactord::server::TakeoverOutcome;
using reactord::server::WorkerGroup;

// How long a process that took over retries binding the old one's admin port.
constexpr std::chrono::seconds kAdminRebindTimeout{5};

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

// The replacement benchmark (tests/deploy) compiles this file a second time with this macro, as
// reactord-beside-for-tests, to start a second instance beside a running one: the only way to
// measure "start another, then stop the old one". reactord itself always has the check.
#ifdef REACTORD_TEST_ONLY_SKIP_BUSY_PORT_CHECK
constexpr bool kCheckBusyPort = false;
#else
constexpr bool kCheckBusyPort = true;
#endif

// How the process came by its listeners: opened them, or took them over.
struct Listening {
  bool took_over = false;
  pid_t old_pid = 0;
  size_t received = 0;
};

// --takeover_from: receives the old process's listeners into `workers`. False (exit 1) with
// `error` set on failure, the old process still serving; true with listening->took_over unset
// when nothing listens there and --takeover_optional asks for a fresh start instead.
bool takeOver(const ServerOptions& options, WorkerGroup& workers, TakeoverClient& client,
              Listening* listening, std::string* error) {
  const auto expected = reactord::common::SocketAddress::parse(options.bind, options.port);
  CHECK(expected.has_value()) << "--bind was validated";
  LOG(INFO) << "takeover: asking the reactord at " << options.takeover_from << " for its listeners";
  if (!client.connectAndReceive(options.takeover_from, *expected, error)) {
    if (options.takeover_optional && client.nothingListening()) {
      LOG(INFO) << "takeover: nothing to take over (" << *error
                << "); starting fresh (--takeover_optional)";
      return true;
    }
    *error = std::string("takeover failed (") +
             reactord::server::takeoverFailureName(client.failure()) + "): " + *error +
             "; the old process keeps serving";
    return false;
  }
  std::vector<reactord::common::UniqueFd> received = client.takeListeners();
  listening->received = received.size();
  LOG(INFO) << "takeover: received " << received.size() << " listeners on "
            << client.address().toString() << " from pid " << client.oldPid();
  if (!workers.adoptListeners(std::move(received), client.address(), error)) {
    client.abort(*error);
    *error = "takeover failed: " + *error + "; the old process keeps serving";
    return false;
  }
  listening->took_over = true;
  listening->old_pid = client.oldPid();
  return true;
}

// After the workers serve the listeners taken over: the old process stops accepting; then the
// control socket moves to this process, and the admin endpoint binds the port the old one left.
void completeTakeover(const ServerOptions& options, TakeoverClient& client, ControlSocket* control,
                      AdminServer* admin) {
  std::string error;
  if (client.finish(options.workers, &error)) {
    LOG(INFO) << "takeover: pid " << client.oldPid()
              << " stopped accepting; it drains its open connections";
  } else {
    LOG(WARNING) << "takeover: " << error << " (serving anyway)";
  }
  if (control != nullptr) {
    const auto how = options.control_socket == options.takeover_from
                         ? ControlSocket::Publish::kReplace
                         : ControlSocket::Publish::kCreate;
    if (!control->publish(how, &error)) {
      LOG(ERROR) << error << " (serving without a control socket)";
    }
  }
  if (admin == nullptr) {
    return;
  }
  // The old process closes its admin endpoint when it starts draining: a few milliseconds.
  const auto deadline = std::chrono::steady_clock::now() + kAdminRebindTimeout;
  while (!admin->listen(&error) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (!admin->bound()) {
    LOG(ERROR) << error << " (serving without the admin endpoint)";
  }
}

// What --status_file tells a health checker: where to connect and how to talk.
reactord::common::ServerStatus statusOf(const WorkerGroup& workers, const ServerOptions& options) {
  reactord::common::ServerStatus status;
  status.address = reactord::common::ServerStatus::probeAddressFor(workers.address());
  status.protocol = reactord::common::protocolName(options.protocol);
  status.oneshot = options.oneshot;
  status.proxy_protocol = options.proxy_protocol;
  status.pid = getpid();
  return status;
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
  using reactord::server::Supervisor;

  if (!openStandardDescriptors()) {
    return 1;  // nowhere to say so: stderr is one of the closed ones
  }
  const auto started_wall = std::chrono::system_clock::now();
  const auto started = std::chrono::steady_clock::now();
  reactord::server::ServerOptions options = reactord::server::parseCommandLine(&argc, &argv);
  options.check_busy_port = kCheckBusyPort;
  if (!kCheckBusyPort) {
    LOG(WARNING) << "test build: the busy-port check is off (never deploy this binary)";
  }

  // Before any thread exists: every thread inherits the mask, so these signals reach the
  // supervisor's signalfd only, never a handler on a worker.
  const sigset_t signals = Supervisor::handledSignals();
  PCHECK(pthread_sigmask(SIG_BLOCK, &signals, nullptr) == 0) << "pthread_sigmask";
  if (options.watchdog_kill_s > 0) {
    // The watchdog aborts with SIGABRT aimed at the stalled thread: this handler logs that thread's
    // stack, then dies by the signal. (It also covers SIGTERM, which stays blocked in every thread
    // and reaches the supervisor's signalfd instead.)
    google::InstallFailureSignalHandler();
  }
  signal(SIGPIPE, SIG_IGN);
  CHECK_EQ(evthread_use_pthreads(), 0) << "evthread_use_pthreads";
  raiseOpenFileLimit();
  keepLargeBuffersMapped();

  WorkerGroup workers(options);
  std::string error;
  // Bound first (not yet at its path), so that a bad --control_socket fails before any change.
  std::unique_ptr<ControlSocket> control;
  if (!options.control_socket.empty()) {
    control = ControlSocket::prepare(options.control_socket, &error);
    if (control == nullptr) {
      LOG(ERROR) << error;
      return 1;
    }
  }
  TakeoverClient takeover;
  Listening listening;
  if (!options.takeover_from.empty() && !takeOver(options, workers, takeover, &listening, &error)) {
    LOG(ERROR) << error;
    return 1;
  }
  if (!listening.took_over && !workers.listen(&error)) {
    LOG(ERROR) << error;
    return 1;
  }
  // A fresh start claims its control socket before serving: a live one there fails the start.
  if (control != nullptr && !listening.took_over &&
      !control->publish(ControlSocket::Publish::kCreate, &error)) {
    LOG(ERROR) << error;
    return 1;
  }
  LOG(INFO) << "reactord " << REACTORD_VERSION
            << " protocol=" << reactord::common::protocolName(options.protocol)
            << " oneshot=" << options.oneshot << " max_connections=" << options.max_connections
            << " max_pending_bytes=" << options.max_pending_bytes
            << " max_buffered_bytes=" << options.max_buffered_bytes
            << " idle_timeout_s=" << options.idle_timeout_s
            << " drain_timeout_s=" << options.drain_timeout_s
            << " drain_delay_s=" << options.drain_delay_s;
  // Bound before any thread starts, so that a busy admin port fails the start cleanly (after a
  // takeover: once the old process let the port go); served after the workers, on its own thread
  // and base; the supervisor stops it last.
  std::unique_ptr<AdminServer> admin;
  if (options.admin_port != 0) {
    admin = std::make_unique<AdminServer>(options, workers, started_wall, started);
    if (!listening.took_over && !admin->listen(&error)) {
      LOG(ERROR) << error;
      return 1;
    }
  }
  // The supervisor takes the signals and the workers' drain reports, so it exists before them.
  Supervisor supervisor(workers, options, admin.get());
  if (!supervisor.open(&error) || !workers.start(supervisor, &error)) {
    LOG(ERROR) << error;
    return 1;
  }
  // The health checker's address, written once the workers serve the listeners (opened or taken
  // over), and before the "listening on" line, so that the line means the file is there. The
  // destructor removes it on every return from main, unless a newer process has replaced it. After
  // a takeover it is written before the old process is told to stop: the old one then finds it
  // replaced and leaves it (written after, it could race the old one's check-then-remove).
  reactord::server::StatusFile status_file(options.status_file);
  if (!status_file.write(statusOf(workers, options), &error)) {
    LOG(ERROR) << error;
    workers.stop();
    workers.join();
    return 1;
  }
  if (listening.took_over) {
    completeTakeover(options, takeover, control.get(), admin.get());
  }
  // Logged once every descriptor of the running server is open (tests take their baseline here).
  LOG(INFO) << "listening on " << workers.address().toString() << " workers=" << options.workers
            << (listening.took_over
                    ? " (took over " + std::to_string(listening.received) + " listeners from pid " +
                          std::to_string(listening.old_pid) + ")"
                    : std::string());
  if (admin != nullptr && admin->bound()) {
    if (!admin->start(&error)) {
      LOG(ERROR) << error;
      workers.stop();
      workers.join();
      return 1;
    }
    LOG(INFO) << "admin listening on " << admin->address().toString();
  }
  // Hands the listeners over to a newer reactord on request; the supervisor drains after it.
  std::unique_ptr<ControlServer> control_server;
  if (control != nullptr) {
    control_server = std::make_unique<ControlServer>(
        control->fd(), workers,
        [&supervisor](const TakeoverOutcome& outcome) { supervisor.handedOver(outcome.new_pid); });
    if (!control_server->start(&error)) {
      LOG(ERROR) << error;
      workers.stop();
      workers.join();
      return 1;
    }
    LOG(INFO) << "control socket " << control->path()
              << ": a reactord started with --takeover_from=" << control->path()
              << " takes over from this one";
  }
  if (!supervisor.start(&error)) {
    LOG(ERROR) << error;
    workers.stop();
    workers.join();
    return 1;  // the admin endpoint and the control server stop in their destructors
  }
  supervisor.join();
  if (control_server != nullptr) {
    control_server->stop();
  }
  return 0;
}
