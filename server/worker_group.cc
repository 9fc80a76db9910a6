#include "server/worker_group.h"

#include <glog/logging.h>

#include "common/listen_socket.h"

namespace reactord::server {

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
  if (address->port() != 0 && common::addressInUse(*address, error)) {
    return false;
  }
  std::vector<std::unique_ptr<Listener>> listeners;
  for (int i = 0; i < options_.workers; ++i) {
    common::ListenResult result =
        common::openListenSocket(*address, options_.backlog, /*reuse_port=*/true);
    if (!result.fd.valid()) {
      *error = result.error;
      return false;
    }
    if (i == 0 && address->port() == 0) {
      // Port 0: the first listener's port is the one every other worker joins.
      const auto bound = common::SocketAddress::localOf(result.fd.get());
      CHECK(bound.has_value()) << "getsockname on the first listener";
      address->setPort(bound->port());
    }
    listeners.push_back(std::make_unique<Listener>(std::move(result.fd), *address));
  }
  address_ = *address;
  listeners_ = std::move(listeners);
  return true;
}

void WorkerGroup::start(DrainObserver& drain_observer) {
  for (int i = 0; i < options_.workers; ++i) {
    workers_.push_back(std::make_unique<Worker>(i, options_,
                                                std::vector<Listener*>{listeners_[i].get()}, limit_,
                                                per_ip_limit_, drain_observer));
  }
  for (auto& worker : workers_) {
    worker->start();
  }
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

std::vector<WorkerCounts> WorkerGroup::snapshots() const {
  std::vector<WorkerCounts> result;
  result.reserve(workers_.size());
  for (const auto& worker : workers_) {
    result.push_back(worker->stats().snapshot());
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

}  // namespace reactord::server
