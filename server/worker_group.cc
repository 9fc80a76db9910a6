#include "server/worker_group.h"

#include <glog/logging.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <condition_variable>
#include <memory>
#include <mutex>

#include "common/listen_socket.h"
#include "server/startup_error.h"

namespace reactord::server {
namespace {

// How long stopAccepting() waits for the workers: each answers within one pass of its loop.
constexpr std::chrono::milliseconds kStopAcceptingTimeout{5000};

// Every connection accepted from `fd` inherits it (see kNotSentLowatBytes). Also on listeners
// taken over: the option is the socket's, for both processes.
void limitUnsentBytes(int fd) {
  const int lowat = kNotSentLowatBytes;
  if (setsockopt(fd, IPPROTO_TCP, TCP_NOTSENT_LOWAT, &lowat, sizeof lowat) != 0) {
    PLOG(WARNING) << "TCP_NOTSENT_LOWAT on a listener: stalled clients pin more kernel memory";
  }
}

}  // namespace

WorkerGroup::WorkerGroup(const ServerOptions& options)
    : options_(options),
      limit_(options.max_connections),
      per_ip_limit_(options.max_connections_per_ip) {}

WorkerGroup::~WorkerGroup() { join(); }

bool WorkerGroup::listen(std::string* error) {
  auto address = common::SocketAddress::parse(options_.bind, options_.port);
  if (!address) {
    *error = "--bind=" + options_.bind + " is not an IPv4 or IPv6 address";
    return false;
  }
  if (options_.check_busy_port && address->port() != 0 && common::addressInUse(*address, error)) {
    return false;
  }
  std::vector<std::unique_ptr<Listener>> listeners;
  for (int i = 0; i < options_.workers; ++i) {
    common::ListenResult result =
        common::openListenSocket(*address, options_.backlog, /*reuse_port=*/true);
    if (!result.fd.valid()) {
      *error = result.error + resourceHint(result.error_number);
      return false;
    }
    if (i == 0 && address->port() == 0) {
      // Port 0: the first listener's port is the one every other worker joins.
      const auto bound = common::SocketAddress::localOf(result.fd.get());
      CHECK(bound.has_value()) << "getsockname on the first listener";
      address->setPort(bound->port());
    }
    limitUnsentBytes(result.fd.get());
    listeners.push_back(std::make_unique<Listener>(std::move(result.fd), *address));
  }
  address_ = *address;
  listeners_ = std::move(listeners);
  return true;
}

bool WorkerGroup::adoptListeners(std::vector<common::UniqueFd> received,
                                 const common::SocketAddress& address, std::string* error) {
  const size_t taken = received.size();
  std::vector<std::unique_ptr<Listener>> listeners;
  for (common::UniqueFd& fd : received) {
    limitUnsentBytes(fd.get());
    listeners.push_back(std::make_unique<Listener>(std::move(fd), address));
  }
  // More workers than sockets received: the rest join the same SO_REUSEPORT group (same user, so
  // the kernel lets them in), and the kernel spreads new connections over all of them.
  while (listeners.size() < static_cast<size_t>(options_.workers)) {
    common::ListenResult result =
        common::openListenSocket(address, options_.backlog, /*reuse_port=*/true);
    if (!result.fd.valid()) {
      *error = "cannot open one more listener beside those taken over: " + result.error +
               resourceHint(result.error_number);
      return false;
    }
    limitUnsentBytes(result.fd.get());
    listeners.push_back(std::make_unique<Listener>(std::move(result.fd), address));
  }
  if (listeners.size() > taken) {
    LOG(INFO) << "takeover: opened " << listeners.size() - taken
              << " more listeners beside them (one per worker)";
  }
  address_ = address;
  listeners_ = std::move(listeners);
  takeovers_received_ = 1;
  return true;
}

bool WorkerGroup::start(DrainObserver& drain_observer, std::string* error) {
  std::vector<std::vector<Listener*>> served(options_.workers);
  for (size_t i = 0; i < listeners_.size(); ++i) {
    served[i % served.size()].push_back(listeners_[i].get());
  }
  for (int i = 0; i < options_.workers; ++i) {
    auto worker = Worker::create(i, options_, std::move(served[i]), limit_, per_ip_limit_,
                                 drain_observer, error);
    if (worker == nullptr) {
      workers_.clear();  // none has a thread yet
      return false;
    }
    workers_.push_back(std::move(worker));
  }
  for (auto& worker : workers_) {
    if (!worker->start(error)) {
      stop();  // the ones already running leave their loops; the rest never ran
      join();
      return false;
    }
  }
  return true;
}

void WorkerGroup::beginDrain() {
  draining_ = true;
  for (auto& worker : workers_) {
    worker->post([w = worker.get()] { w->beginDrain(); });
  }
}

void WorkerGroup::stop() {
  draining_ = true;
  for (auto& worker : workers_) {
    worker->post([w = worker.get()] { w->stop(); });
  }
}

void WorkerGroup::join() {
  for (auto& worker : workers_) {
    worker->join();
  }
}

std::optional<std::string> WorkerGroup::refusal() {
  if (draining_) {
    return std::string("draining: a shutdown (or an earlier takeover) is in progress");
  }
  return std::nullopt;
}

std::vector<common::UniqueFd> WorkerGroup::duplicateListeners(common::SocketAddress* address) {
  *address = address_;
  std::vector<common::UniqueFd> copies;
  for (const auto& listener : listeners_) {
    common::UniqueFd copy = listener->duplicate();
    if (!copy.valid()) {
      PLOG_IF(WARNING, listener->open()) << "takeover: cannot duplicate a listener";
      return {};  // closed by a drain that began meanwhile, or out of descriptors: refused
    }
    copies.push_back(std::move(copy));
  }
  return copies;
}

void WorkerGroup::stopAccepting() {
  draining_ = true;
  // Shared with the posted tasks: a worker that already left its loop (an immediate stop raced
  // with the takeover) never runs its task, and does not accept either.
  struct Latch {
    std::mutex mutex;
    std::condition_variable done;
    size_t stopped = 0;  // guarded by mutex
  };
  auto latch = std::make_shared<Latch>();
  for (auto& worker : workers_) {
    worker->post([latch, w = worker.get()] {
      w->stopAccepting();
      std::lock_guard<std::mutex> lock(latch->mutex);
      ++latch->stopped;
      latch->done.notify_one();
    });
  }
  std::unique_lock<std::mutex> lock(latch->mutex);
  if (!latch->done.wait_for(lock, kStopAcceptingTimeout,
                            [&] { return latch->stopped == workers_.size(); })) {
    LOG(WARNING) << "takeover: " << workers_.size() - latch->stopped << " of " << workers_.size()
                 << " workers did not confirm within " << kStopAcceptingTimeout.count()
                 << " ms that they stopped accepting";
  }
  takeovers_served_ = 1;
}

std::vector<WorkerCounts> WorkerGroup::snapshots() const {
  std::vector<WorkerCounts> result;
  result.reserve(workers_.size());
  for (const auto& worker : workers_) {
    result.push_back(worker->stats().snapshot());
  }
  return result;
}

std::vector<MemoryGauges> WorkerGroup::memoryGauges() const {
  std::vector<MemoryGauges> result;
  result.reserve(workers_.size());
  for (const auto& worker : workers_) {
    result.push_back(worker->memory());
  }
  return result;
}

uint64_t WorkerGroup::activeConnections() const {
  uint64_t active = 0;
  for (const auto& worker : workers_) {
    active += worker->stats().snapshot().active();
  }
  return active;
}

std::vector<WatchedWorker> WorkerGroup::watched() const {
  std::vector<WatchedWorker> result;
  for (const auto& worker : workers_) {
    WatchedWorker watched;
    watched.probe = &worker->lagProbe();
    watched.listeners.assign(worker->listeners().begin(), worker->listeners().end());
    result.push_back(std::move(watched));
  }
  return result;
}

std::vector<WorkerGauges> WorkerGroup::currentGauges() const {
  const auto now = LoopLagProbe::Clock::now();
  std::vector<WorkerGauges> result;
  for (const WatchedWorker& worker : watched()) {
    result.push_back(
        server::currentGauges(worker, now, std::chrono::milliseconds(options_.watchdog_miss_ms)));
  }
  return result;
}

}  // namespace reactord::server
