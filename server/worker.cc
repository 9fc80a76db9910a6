#include "server/worker.h"

#include <glog/logging.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <string>

#include "common/socket_address.h"
#include "server/ack_protocol.h"
#include "server/echo_protocol.h"
#include "server/protocol_connection.h"
#include "server/startup_error.h"

namespace reactord::server {
namespace {

// Accepts per readiness event, so that a connection flood cannot starve existing connections.
constexpr int kAcceptsPerEvent = 32;
// Pause after EMFILE/ENFILE/ENOBUFS/ENOMEM: the listener stays readable while the error lasts, so
// accepting again at once would spin.
constexpr timeval kAcceptRetryDelay = {0, 100000};
static_assert(common::log2BucketOfPositive(kScratchBytes) < kReadSizeBuckets,
              "the read-size histogram must cover the largest read");
constexpr timeval kTickInterval = {0, 1000 * 1000 / kTicksPerSecond};

template <typename P>
std::unique_ptr<Connection> makeConnection(const ConnectionContext& context, common::UniqueFd fd,
                                           const IpKey& peer, const char* data, size_t size) {
  auto connection = std::make_unique<ProtocolConnection<P>>(context, std::move(fd), peer);
  if (size > 0) {
    connection->takeInitialInput(data, size);
  }
  return connection;
}

uint32_t ticks(int seconds) { return static_cast<uint32_t>(seconds) * kTicksPerSecond; }

}  // namespace

std::unique_ptr<Worker> Worker::create(int index, const ServerOptions& options,
                                       std::vector<Listener*> listeners, ConnectionLimit& limit,
                                       PerIpLimit& per_ip_limit, DrainObserver& drain_observer,
                                       std::string* error) {
  std::string why;
  common::EventBasePtr base = common::makeEventBase(common::BaseLocking::kSingleThread, &why);
  if (base == nullptr) {
    const int failure = errno;
    *error = "worker " + std::to_string(index) + ": " + why + resourceHint(failure);
    return nullptr;
  }
  std::unique_ptr<Worker> worker(new Worker(index, options, std::move(base), std::move(listeners),
                                            limit, per_ip_limit, drain_observer));
  if (!worker->tasks_.valid()) {
    const int failure = worker->tasks_.error();
    *error = "worker " + std::to_string(index) +
             ": cannot open its wake-up eventfd: " + std::strerror(failure) + resourceHint(failure);
    return nullptr;
  }
  return worker;
}

Worker::Worker(int index, const ServerOptions& options, common::EventBasePtr base,
               std::vector<Listener*> listeners, ConnectionLimit& limit, PerIpLimit& per_ip_limit,
               DrainObserver& drain_observer)
    : index_(index),
      options_(options),
      limit_(limit),
      per_ip_limit_(per_ip_limit),
      drain_observer_(drain_observer),
      make_connection_(options.protocol == Protocol::kAck ? &makeConnection<AckProtocol>
                                                          : &makeConnection<EchoProtocol>),
      read_bytes_(options.protocol == Protocol::kAck ? AckProtocol::kReadBytes
                                                     : EchoProtocol::kReadBytes),
      header_timeout_ticks_(ticks(options.proxy_header_timeout_s)),
      scratch_(new char[kScratchBytes]),
      base_(std::move(base)),
      listener_list_(listeners),
      lag_probe_(base_.get(), std::chrono::milliseconds(options.watchdog_miss_ms),
                 std::chrono::milliseconds(options.watchdog_megamiss_ms), stats_) {
  context_.base = base_.get();
  context_.scratch = scratch_.get();
  context_.stats = &stats_;
  context_.tick = &tick_;
  context_.timeouts = {ticks(options.idle_timeout_s), ticks(options.write_timeout_s),
                       ticks(options.message_timeout_s)};
  context_.max_pending_bytes = options.max_pending_bytes;
  context_.max_message_bytes = options.max_message_bytes;
  context_.oneshot = options.oneshot;
  context_.owner = this;
  for (Listener* listener : listeners) {
    auto slot = std::make_unique<ListenerSlot>();
    slot->worker = this;
    slot->listener = listener;
    slot->event.assign(base_.get(), listener->fd(), EV_READ | EV_PERSIST, &Worker::onAcceptable,
                       slot.get());
    slot->event.add();
    listeners_.push_back(std::move(slot));
  }
  accept_retry_event_.assign(base_.get(), -1, 0, &Worker::onAcceptRetry, this);
  if (tasks_.valid()) {  // else create() gives the worker up
    wake_event_.assign(base_.get(), tasks_.fd(), EV_READ | EV_PERSIST, &Worker::onWake, this);
    wake_event_.add();
  }
  tick_event_.assign(base_.get(), -1, EV_PERSIST, &Worker::onTick, this);
  tick_event_.add(&kTickInterval);
}

Worker::~Worker() { CHECK(!thread_.joinable()) << "worker " << index_ << " destroyed unjoined"; }

bool Worker::start(std::string* error) {
  return startThread(
      &thread_, [this] { run(); }, "worker " + std::to_string(index_), error);
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
  event_base_dispatch(base_.get());
  VLOG(1) << "worker " << index_ << " left its loop";
}

bool Worker::onLoopThread() const { return loop_thread_id_.load() == std::this_thread::get_id(); }

void Worker::onWake(int /*fd*/, short /*what*/, void* self) {
  static_cast<Worker*>(self)->tasks_.runAll();
}

void Worker::onAcceptable(int /*fd*/, short /*what*/, void* slot) {
  auto* listener_slot = static_cast<ListenerSlot*>(slot);
  listener_slot->worker->acceptBurst(*listener_slot, kAcceptsPerEvent);
}

void Worker::acceptBurst(ListenerSlot& slot, int max_accepts) {
  for (int i = 0; i < max_accepts && acceptOne(slot); ++i) {
  }
}

bool Worker::acceptOne(ListenerSlot& slot) {
  sockaddr_storage peer{};
  socklen_t peer_length = sizeof peer;
  const int fd = ::accept4(slot.listener->fd(), reinterpret_cast<sockaddr*>(&peer), &peer_length,
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
    VLOG(1) << "worker " << index_ << ": --max_connections reached, closing the connection from "
            << common::SocketAddress::of(peer).toString();
    return;  // closed by fd's destructor
  }
  if (options_.proxy_protocol) {
    readProxyHeader(std::move(fd), peer);
    return;
  }
  admit(std::move(fd), peer, nullptr, 0);
}

void Worker::admit(common::UniqueFd fd, const sockaddr_storage& client, const char* data,
                   size_t size) {
  const IpKey ip = IpKey::from(client);
  if (!per_ip_limit_.tryAcquire(ip)) {
    limit_.release();
    stats_.per_ip_rejected.add();
    VLOG(1) << "worker " << index_
            << ": --max_connections_per_ip reached, closing the connection from "
            << common::SocketAddress::of(client).toString();
    return;
  }
  const int one = 1;
  setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  const int index = fd.get();
  if (static_cast<size_t>(index) >= connections_.size()) {
    connections_.resize(index + 1 + index / 2);
  }
  stats_.accepted.add();
  ++connection_count_;
  connections_[index] = make_connection_(context_, std::move(fd), ip, data, size);
  if (size > 0 && connections_[index]->finished()) {
    removeConnection(index);  // its first read ended it (--oneshot, an over-long message)
  }
}

void Worker::readProxyHeader(common::UniqueFd fd, const sockaddr_storage& peer) {
  if (!options_.proxy_protocol_from.contains(peer)) {
    limit_.release();
    stats_.proxy_untrusted.add();
    LOG_EVERY_T(WARNING, 10) << "worker " << index_ << ": closing connections from sources outside "
                             << "--proxy_protocol_from (this one from "
                             << common::SocketAddress::of(peer).toString() << ")";
    VLOG(1) << "worker " << index_ << ": " << common::SocketAddress::of(peer).toString()
            << " may not send a PROXY header, closing fd " << fd.get();
    return;
  }
  const int index = fd.get();
  if (static_cast<size_t>(index) >= readers_.size()) {
    readers_.resize(index + 1 + index / 2);
  }
  ++reader_count_;
  ProxyHeaderOwner& owner = *this;
  // One tick more than the timeout: the clock may be about to tick.
  readers_[index] = std::make_unique<ProxyHeaderReader>(context_, owner, read_bytes_, std::move(fd),
                                                        peer, tick_ + header_timeout_ticks_ + 1);
}

void Worker::proxyHeaderDone(ProxyHeaderReader& reader, const char* data, size_t size) {
  const int index = reader.fd();
  const sockaddr_storage client = reader.clientAddress();
  common::UniqueFd fd = reader.takeFd();
  removeReader(index);
  admit(std::move(fd), client, data, size);
  // Refused by the per-address limit, it may have been this worker's last one while draining (the
  // address's other connections can be on other workers).
  reportIfDrained();
}

void Worker::proxyHeaderFailed(ProxyHeaderReader& reader) {
  removeReader(reader.fd());
  limit_.release();
  reportIfDrained();
}

void Worker::removeReader(int fd) {
  DCHECK(onLoopThread());
  DCHECK(readers_[fd] != nullptr);
  readers_[fd].reset();
  --reader_count_;
}

void Worker::connectionFinished(Connection& connection) { removeConnection(connection.fd()); }

void Worker::removeConnection(int fd) {
  DCHECK(onLoopThread());
  DCHECK(connections_[fd] != nullptr);
  const Connection& connection = *connections_[fd];
  per_ip_limit_.release(connection.peer());
  const auto open_for = std::chrono::steady_clock::now() - connection.opened();
  stats_.countConnection(
      static_cast<uint64_t>(
          std::chrono::duration_cast<std::chrono::milliseconds>(open_for).count()),
      connection.receivedBytes(), connection.sentBytes());
  connections_[fd].reset();
  --connection_count_;
  limit_.release();
  stats_.closed.add();
  reportIfDrained();
}

void Worker::pauseAccepting() {
  for (auto& slot : listeners_) {
    slot->event.remove();
  }
  accept_retry_event_.add(&kAcceptRetryDelay);
}

void Worker::onAcceptRetry(int /*fd*/, short /*what*/, void* self) {
  for (auto& slot : static_cast<Worker*>(self)->listeners_) {
    if (slot->event.assigned()) {
      slot->event.add();
    }
  }
}

void Worker::onTick(int /*fd*/, short /*what*/, void* self) { static_cast<Worker*>(self)->sweep(); }

void Worker::sweep() {
  ++tick_;
  if (reader_count_ > 0) {
    for (auto& reader : readers_) {
      if (reader && reader->expired(tick_)) {
        proxyHeaderFailed(*reader);
      }
    }
  }
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
  if (draining_) {
    return;
  }
  draining_ = true;
  // Everything that completed its handshake before now: bounded by the backlog. Listeners handed
  // over to another process are closed already: what they queue is not this process's.
  for (auto& slot : listeners_) {
    if (slot->listener->fd() >= 0) {
      acceptBurst(*slot, options_.backlog + kAcceptsPerEvent);
    }
  }
  closeListeners();
  LOG(INFO) << "worker " << index_ << ": listener closed, " << connection_count_
            << " connections open";
  drain_observer_.listenersClosed(index_);
  reportIfDrained();
}

void Worker::reportIfDrained() {
  if (draining_ && connection_count_ == 0 && reader_count_ == 0 && !reported_gone_) {
    reported_gone_ = true;
    drain_observer_.connectionsGone(index_);
  }
}

void Worker::closeListeners() {
  accept_retry_event_.remove();
  for (auto& slot : listeners_) {
    slot->event.reset();
    slot->listener->close();
  }
}

void Worker::stopAccepting() {
  DCHECK(onLoopThread());
  closeListeners();
  LOG(INFO) << "worker " << index_ << ": stopped accepting (listeners taken over), "
            << connection_count_ << " connections open";
}

void Worker::stop() {
  DCHECK(onLoopThread());
  closeListeners();
  for (auto& reader : readers_) {
    if (reader) {
      stats_.proxy_incomplete.add();  // its header will never be complete now
      proxyHeaderFailed(*reader);
    }
  }
  for (auto& connection : connections_) {
    if (connection) {
      connection->closeForShutdown();
      stats_.forced_closed.add();
      removeConnection(connection->fd());
    }
  }
  event_base_loopbreak(base_.get());
}

}  // namespace reactord::server
