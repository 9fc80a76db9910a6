#include "server/worker.h"

#include <glog/logging.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <string>

#include "server/connection.h"

namespace reactord::server {
namespace {

// Accepts per readiness event, so that a connection flood cannot starve existing connections.
constexpr int kAcceptsPerEvent = 32;
// Pause after EMFILE/ENFILE/ENOBUFS/ENOMEM: the listener stays readable while the error lasts, so
// accepting again at once would spin.
constexpr timeval kAcceptRetryDelay = {0, 100000};
static_assert(common::log2BucketOfPositive(Worker::kScratchBytes) < kReadSizeBuckets,
              "the read-size histogram must cover the largest read");
constexpr timeval kTickInterval = {0, 1000 * 1000 / Worker::kTicksPerSecond};

}  // namespace

Worker::Worker(int index, const ServerOptions& options, common::UniqueFd listen_fd,
               ConnectionLimit& limit, PerIpLimit& per_ip_limit, std::atomic<int>& listeners_open)
    : index_(index),
      options_(options),
      read_size_(options.protocol == Protocol::kAck ? kAckReadBytes : kScratchBytes),
      idle_timeout_ticks_(static_cast<uint32_t>(options.idle_timeout_s) * kTicksPerSecond),
      write_timeout_ticks_(static_cast<uint32_t>(options.write_timeout_s) * kTicksPerSecond),
      message_timeout_ticks_(static_cast<uint32_t>(options.message_timeout_s) * kTicksPerSecond),
      limit_(limit),
      per_ip_limit_(per_ip_limit),
      listeners_open_(listeners_open),
      scratch_(new char[kScratchBytes]),
      base_(common::makeSingleThreadBase()),
      listen_fd_(std::move(listen_fd)),
      wake_fd_(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)),
      lag_probe_(base(), std::chrono::milliseconds(options.watchdog_miss_ms),
                 std::chrono::milliseconds(options.watchdog_megamiss_ms), stats_) {
  PCHECK(wake_fd_.valid()) << "eventfd for worker " << index_;
  listen_event_.assign(base(), listen_fd_.get(), EV_READ | EV_PERSIST, &Worker::onAcceptable, this);
  listen_event_.add();
  accept_retry_event_.assign(base(), -1, 0, &Worker::onAcceptRetry, this);
  wake_event_.assign(base(), wake_fd_.get(), EV_READ | EV_PERSIST, &Worker::onWake, this);
  wake_event_.add();
  tick_event_.assign(base(), -1, EV_PERSIST, &Worker::onTick, this);
  tick_event_.add(&kTickInterval);
}

Worker::~Worker() { CHECK(!thread_.joinable()) << "worker " << index_ << " destroyed unjoined"; }

void Worker::start() {
  thread_ = std::thread([this] { run(); });
}

void Worker::join() {
  if (thread_.joinable()) {
    thread_.join();
  }
}

void Worker::run() {
  loop_thread_id_ = std::this_thread::get_id();
  const std::string name = "reactord-w" + std::to_string(index_);
  pthread_setname_np(pthread_self(), name.c_str());
  lag_probe_.start();
  event_base_dispatch(base());
  VLOG(1) << "worker " << index_ << " left its loop";
}

bool Worker::onLoopThread() const { return loop_thread_id_.load() == std::this_thread::get_id(); }

void Worker::post(std::function<void()> task) {
  bool was_empty;
  {
    std::lock_guard<std::mutex> lock(tasks_mutex_);
    was_empty = tasks_.empty();
    tasks_.push_back(std::move(task));
  }
  if (was_empty) {
    const uint64_t one = 1;
    PCHECK(::write(wake_fd_.get(), &one, sizeof one) == sizeof one || errno == EAGAIN)
        << "waking worker " << index_;
  }
}

void Worker::onWake(int /*fd*/, short /*what*/, void* self) {
  static_cast<Worker*>(self)->runPostedTasks();
}

void Worker::runPostedTasks() {
  uint64_t count;
  // Read the wake-up before taking the queue: a post after this read either finds the queue not
  // yet swapped (and is run below) or empty (and wakes the loop again).
  (void)::read(wake_fd_.get(), &count, sizeof count);
  std::vector<std::function<void()>> tasks;
  {
    std::lock_guard<std::mutex> lock(tasks_mutex_);
    tasks.swap(tasks_);
  }
  for (auto& task : tasks) {
    task();
  }
}

void Worker::onAcceptable(int /*fd*/, short /*what*/, void* self) {
  static_cast<Worker*>(self)->acceptBurst(kAcceptsPerEvent);
}

void Worker::acceptBurst(int max_accepts) {
  for (int i = 0; i < max_accepts && acceptOne(); ++i) {
  }
}

bool Worker::acceptOne() {
  sockaddr_storage peer{};
  socklen_t peer_length = sizeof peer;
  const int fd = ::accept4(listen_fd_.get(), reinterpret_cast<sockaddr*>(&peer), &peer_length,
                           SOCK_NONBLOCK | SOCK_CLOEXEC);
  if (fd >= 0) {
    adopt(common::UniqueFd(fd), peer);
    return true;
  }
  const int error = errno;
  if (error == EAGAIN) {
    return false;
  }
  stats_.accept_errors.add();
  LOG_EVERY_T(WARNING, 1) << "worker " << index_ << ": accept: " << std::strerror(error)
                          << " (accept errors so far: " << stats_.accept_errors.get() << ")";
  if (error == EMFILE || error == ENFILE || error == ENOBUFS || error == ENOMEM) {
    pauseAccepting();
    return false;
  }
  return true;  // ECONNABORTED, EINTR, EPROTO and the like concern one connection: go on
}

void Worker::adopt(common::UniqueFd fd, const sockaddr_storage& peer) {
  if (!limit_.tryAcquire()) {
    stats_.rejected.add();
    VLOG(1) << "worker " << index_ << ": --max_connections reached, closing fd " << fd.get();
    return;  // closed by fd's destructor
  }
  const IpKey ip = IpKey::from(peer);
  if (!per_ip_limit_.tryAcquire(ip)) {
    limit_.release();
    stats_.per_ip_rejected.add();
    VLOG(1) << "worker " << index_ << ": --max_connections_per_ip reached, closing fd " << fd.get();
    return;
  }
  const int one = 1;
  setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  const int index = fd.get();
  if (static_cast<size_t>(index) >= connections_.size()) {
    connections_.resize(index + 1 + index / 2);
  }
  if (per_ip_limit_.enabled()) {
    peers_.resize(connections_.size());
    peers_[index] = ip;
  }
  stats_.accepted.add();
  ++connection_count_;
  connections_[index] = std::make_unique<Connection>(*this, std::move(fd));
}

void Worker::removeConnection(int fd) {
  DCHECK(onLoopThread());
  DCHECK(connections_[fd] != nullptr);
  const Connection& connection = *connections_[fd];
  const auto open_for = std::chrono::steady_clock::now() - connection.opened();
  stats_.countConnection(
      static_cast<uint64_t>(
          std::chrono::duration_cast<std::chrono::milliseconds>(open_for).count()),
      connection.receivedBytes(), connection.sentBytes());
  connections_[fd].reset();
  --connection_count_;
  limit_.release();
  if (per_ip_limit_.enabled()) {
    per_ip_limit_.release(peers_[fd]);
  }
  stats_.closed.add();
}

void Worker::pauseAccepting() {
  listen_event_.remove();
  accept_retry_event_.add(&kAcceptRetryDelay);
}

void Worker::onAcceptRetry(int /*fd*/, short /*what*/, void* self) {
  auto* worker = static_cast<Worker*>(self);
  if (worker->listen_fd_.valid()) {
    worker->listen_event_.add();
  }
}

void Worker::onTick(int /*fd*/, short /*what*/, void* self) { static_cast<Worker*>(self)->sweep(); }

void Worker::sweep() {
  ++tick_;
  if (connection_count_ == 0) {
    return;
  }
  for (auto& connection : connections_) {
    if (connection) {
      connection->onTick(tick_);
      if (connection->finished()) {
        removeConnection(connection->fd());
      }
    }
  }
}

void Worker::beginDrain() {
  DCHECK(onLoopThread());
  if (!listen_fd_.valid()) {
    return;
  }
  // Everything that completed its handshake before now: bounded by the backlog.
  acceptBurst(options_.backlog + kAcceptsPerEvent);
  closeListener();
  LOG(INFO) << "worker " << index_ << ": listener closed, " << connection_count_
            << " connections open";
}

void Worker::closeListener() {
  if (!listen_fd_.valid()) {
    return;
  }
  listen_event_.reset();
  accept_retry_event_.remove();
  listen_fd_.reset();
  listeners_open_.fetch_sub(1);
}

void Worker::stop() {
  DCHECK(onLoopThread());
  closeListener();
  for (auto& connection : connections_) {
    if (connection) {
      connection->closeForShutdown();
      stats_.forced_closed.add();
      removeConnection(connection->fd());
    }
  }
  event_base_loopbreak(base());
}

}  // namespace reactord::server
