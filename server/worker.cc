#include "server/worker.h"

#include <glog/logging.h>
#include <malloc.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <string>
#include <tuple>

#include "common/socket_address.h"
#include "server/ack_protocol.h"
#include "server/echo_protocol.h"
#include "server/protocol_connection.h"
#include "server/startup_error.h"

namespace reactord::server {
namespace {

// Accepts per readiness event, so that a connection flood cannot starve existing connections.
constexpr int kAcceptsPerEvent = 32;
// Under memory pressure: each new connection can take a read and socket buffers before the marks
// see it, so fewer at a time.
constexpr int kAcceptsPerEventUnderPressure = 4;
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

uint64_t shareOf(const ServerOptions& options) {
  return options.max_buffered_bytes / static_cast<uint64_t>(std::max(1, options.workers));
}

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
      account_(shareOf(options), &Worker::onMemoryCrossed, this),
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
  context_.account = &account_;
  context_.pause_above = options.max_pending_bytes;
  context_.max_buffer_capacity = options.max_pending_bytes + kScratchBytes;
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
  overload_event_.assign(base_.get(), -1, 0, &Worker::onOverload, this);
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
  Worker* worker = listener_slot->worker;
  worker->acceptBurst(*listener_slot, worker->context_.underPressure()
                                          ? kAcceptsPerEventUnderPressure
                                          : kAcceptsPerEvent);
}

void Worker::acceptBurst(ListenerSlot& slot, int max_accepts) {
  // An accepted connection can take the worker past the mark where it stops accepting.
  for (int i = 0; i < max_accepts && !accept_stopped_ && acceptOne(slot); ++i) {
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
  accept_retry_pending_ = true;
  setListening(false);
  accept_retry_event_.add(&kAcceptRetryDelay);
}

void Worker::onAcceptRetry(int /*fd*/, short /*what*/, void* self) {
  auto* worker = static_cast<Worker*>(self);
  worker->accept_retry_pending_ = false;
  worker->setListening(true);
}

void Worker::setListening(bool on) {
  const bool watch = on && !accept_stopped_ && !accept_retry_pending_;
  for (auto& slot : listeners_) {
    if (!slot->event.assigned()) {
      continue;  // closed (drain, takeover)
    }
    if (watch) {
      slot->event.add();
    } else {
      slot->event.remove();
    }
  }
}

void Worker::onTick(int /*fd*/, short /*what*/, void* self) { static_cast<Worker*>(self)->sweep(); }

void Worker::sweep() {
  ++tick_;
  if (trim_pending_ && account_.held() < account_.share() / 10) {
    // What the connections of an episode freed stays in glibc's arenas (free chunks between live
    // ones) unless given back: once per episode, when most of it is free. Takes a few ms.
    trim_pending_ = false;
    malloc_trim(0);
  }
  if (accept_stopped_ && tick_ - accept_stopped_tick_ >= kStuckAcceptTicks) {
    // New clients have waited in the accept queue that long: make room for them by closing the
    // connections that have not taken any output for as long.
    accept_stopped_tick_ = tick_;
    closeRound(kStuckAcceptTicks, account_.marks().reopen_target);
  }
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
  // Also when memory pressure had stopped accepting: closing the listeners would reset them.
  accept_stopped_ = false;
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
  accept_stopped_ = false;
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

MemoryGauges Worker::memory() const {
  MemoryGauges gauges;
  gauges.share = account_.share();
  gauges.held = account_.held();
  gauges.peak = account_.peak();
  gauges.overload = static_cast<uint64_t>(account_.level());
  return gauges;
}

void Worker::onMemoryCrossed(void* self) { static_cast<Worker*>(self)->applyOverload(); }

void Worker::onOverload(int /*fd*/, short /*what*/, void* self) {
  auto* worker = static_cast<Worker*>(self);
  if (worker->account_.level() == common::kOverloadLevels - 1) {
    worker->closeRound(0, worker->account_.marks().close_target);
  }
}

void Worker::applyOverload() {
  const int before = account_.level();
  const int level = account_.levelForUse();
  if (level == before) {
    return;
  }
  account_.setLevel(level);
  for (int k = before + 1; k <= level; ++k) {
    enterLevel(k);
  }
  for (int k = before; k > level; --k) {
    leaveLevel(k);
  }
  if (level == common::kOverloadLevels - 1) {
    // Closing destroys connections: not from inside the callback of the one that crossed the
    // mark, but right after the callbacks of this loop pass.
    overload_event_.activate(EV_TIMEOUT);
  }
}

void Worker::enterLevel(int level) {
  if (level == 3) {
    return;  // closing is logged and counted by each round
  }
  const unsigned bit = 1u << (level - 1);
  const bool first_in_episode = (episode_actions_ & bit) == 0;
  episode_actions_ |= bit;
  if (level == 1) {
    context_.pause_above = 0;
  } else {
    accept_stopped_ = true;
    accept_stopped_tick_ = tick_;
    setListening(false);
  }
  if (!first_in_episode) {
    return;
  }
  (level == 1 ? stats_.overload_pause_reading : stats_.overload_stop_accepting).add();
  LOG(WARNING) << "worker " << index_ << ": overload level " << level << " ("
               << common::overloadLevelName(level) << "): holding " << account_.held()
               << " bytes of a " << account_.share() << "-byte share, " << connection_count_
               << " connections";
}

void Worker::leaveLevel(int level) {
  if (level == 2) {
    accept_stopped_ = false;
    setListening(true);
  } else if (level == 1) {
    context_.pause_above = options_.max_pending_bytes;
    episode_actions_ = 0;
    trim_pending_ = true;
    LOG(WARNING) << "worker " << index_ << ": overload over: holding " << account_.held()
                 << " bytes, " << connection_count_ << " connections (total closed for "
                 << "overload so far " << stats_.overload_closed.get() << ")";
  }
}

void Worker::closeRound(uint32_t min_stalled_ticks, uint64_t target) {
  // Longest stalled first, then most held: a client that reads its replies makes progress and
  // comes last.
  std::vector<std::tuple<uint32_t, uint64_t, int>> victims;
  for (const auto& connection : connections_) {
    if (connection && !connection->finished() && connection->holdsOutput()) {
      const uint32_t stalled = connection->stalledTicks(tick_);
      if (stalled >= min_stalled_ticks) {
        victims.emplace_back(stalled / kTicksPerSecond, connection->charged(), connection->fd());
      }
    }
  }
  std::sort(victims.begin(), victims.end(), std::greater<>());
  size_t closed = 0;
  for (const auto& [seconds, bytes, fd] : victims) {
    if (account_.held() < target) {
      break;
    }
    connections_[fd]->abort();
    stats_.overload_closed.add();
    removeConnection(fd);
    ++closed;
  }
  if (closed == 0) {
    return;
  }
  stats_.overload_close_rounds.add();
  const unsigned bit = 1u << 2;
  if ((episode_actions_ & bit) == 0) {
    episode_actions_ |= bit;
    LOG(WARNING) << "worker " << index_ << ": overload level 3 (closing): closed " << closed
                 << " stalled connections, now holding " << account_.held() << " bytes";
  } else {
    LOG_EVERY_T(WARNING, 5) << "worker " << index_ << ": overload: closed " << closed
                            << " more stalled connections (" << stats_.overload_closed.get()
                            << " so far), now holding " << account_.held() << " bytes";
  }
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
