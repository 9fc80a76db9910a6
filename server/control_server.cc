#include "server/control_server.h"

#include <glog/logging.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <memory>

#include "common/unix_socket.h"
#include "server/startup_error.h"

namespace reactord::server {
namespace {

// A refusal is one message to a peer that may not read it: never wait long.
constexpr std::chrono::milliseconds kRefuseTimeout{500};

}  // namespace

ControlServer::ControlServer(int listen_fd, TakeoverHost& host, OnHandover on_handover,
                             TakeoverTimeouts timeouts)
    : listen_fd_(listen_fd),
      host_(host),
      on_handover_(std::move(on_handover)),
      timeouts_(timeouts),
      wake_fd_(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
  PCHECK(wake_fd_.valid()) << "eventfd for the control server";
}

ControlServer::~ControlServer() { stop(); }

bool ControlServer::start(std::string* error) {
  return startThread(
      &thread_, [this] { run(); }, "the control socket", error);
}

void ControlServer::stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopped_) {
      return;
    }
    stopped_ = true;
  }
  const uint64_t one = 1;
  PCHECK(::write(wake_fd_.get(), &one, sizeof one) == sizeof one) << "waking the control server";
  if (thread_.joinable()) {
    thread_.join();
  }
}

void ControlServer::run() {
  pthread_setname_np(pthread_self(), "reactord-ctl");
  while (true) {
    pollfd entries[2] = {{listen_fd_, POLLIN, 0}, {wake_fd_.get(), POLLIN, 0}};
    if (::poll(entries, 2, -1) < 0) {
      PCHECK(errno == EINTR) << "poll on the control socket";
      continue;
    }
    if (entries[1].revents != 0) {
      break;
    }
    if (common::UniqueFd connection = common::acceptUnix(listen_fd_); connection.valid()) {
      onConnection(std::move(connection));
    }
  }
  if (session_.joinable()) {
    session_.join();
  }
}

void ControlServer::onConnection(common::UniqueFd connection) {
  const auto peer = common::peerCredentials(connection.get());
  const pid_t pid = peer ? peer->pid : 0;
  if (!peer || (peer->uid != ::geteuid() && peer->uid != 0)) {
    refuse(connection.get(), pid,
           "permission denied: uid " + (peer ? std::to_string(peer->uid) : std::string("?")) +
               " is not the owner of this reactord (uid " + std::to_string(::geteuid()) + ")");
    return;
  }
  std::string busy;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (handed_over_to_ != 0) {
      busy = "this reactord already handed its listeners over to pid " +
             std::to_string(handed_over_to_) + " and is draining";
    } else if (session_active_) {
      busy = "a takeover by pid " + std::to_string(session_peer_) + " is in progress";
    } else {
      session_active_ = true;
      session_peer_ = pid;
    }
  }
  if (!busy.empty()) {
    refuse(connection.get(), pid, busy);
    return;
  }
  if (session_.joinable()) {
    session_.join();  // the previous session has ended (session_active_ was false)
  }
  // SO_PEERCRED gives pid 0 for a process of another PID namespace (another container).
  LOG(INFO) << "takeover: "
            << (pid != 0 ? "pid " + std::to_string(pid) : "a process of another PID namespace")
            << " connected to the control socket";
  std::string error;
  auto session = std::make_shared<common::UniqueFd>(std::move(connection));
  if (!startThread(
          &session_, [this, session, pid] { runSession(std::move(*session), pid); },
          "a takeover session", &error)) {
    LOG(WARNING) << "takeover: " << error << "; the takeover is refused, this process serves on";
    refuse(session->get(), pid, error);
    std::lock_guard<std::mutex> lock(mutex_);
    session_active_ = false;
  }
}

void ControlServer::runSession(common::UniqueFd connection, pid_t peer) {
  pthread_setname_np(pthread_self(), "reactord-takeover");
  const TakeoverOutcome outcome = serveTakeover(connection.get(), host_, timeouts_);
  connection.reset();
  if (outcome.handed_over) {
    LOG(INFO) << "takeover: " << outcome.text;
    served_.fetch_add(1, std::memory_order_relaxed);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      handed_over_to_ = outcome.new_pid != 0 ? outcome.new_pid : peer;
    }
    on_handover_(outcome);
  } else if (outcome.no_request) {
    // ControlSocket::publish() of another reactord checks whether this one is alive this way.
    LOG(INFO) << "takeover: pid " << peer << " left without a request (a liveness check)";
  } else {
    refused_.fetch_add(1, std::memory_order_relaxed);
    LOG(WARNING) << "takeover: " << outcome.text;
  }
  std::lock_guard<std::mutex> lock(mutex_);
  session_active_ = false;
}

void ControlServer::refuse(int connection, pid_t peer, const std::string& reason) {
  refused_.fetch_add(1, std::memory_order_relaxed);
  LOG(WARNING) << "takeover: refused pid " << peer << ": " << reason;
  refuseTakeover(connection, reason, kRefuseTimeout);
}

}  // namespace reactord::server
