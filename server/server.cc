#include "server/server.h"

#include <glog/logging.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "common/listen_socket.h"

namespace reactord::server {

Server::Server(const ServerOptions& options)
    : options_(options),
      limit_(options.max_connections),
      per_ip_limit_(options.max_connections_per_ip) {}

Server::~Server() { join(); }

bool Server::listen(std::string* error) {
  auto address = common::SocketAddress::parse(options_.bind, options_.port);
  if (!address) {
    *error = "--bind=" + options_.bind + " is not an IPv4 or IPv6 address";
    return false;
  }
  if (address->port() != 0 && common::addressInUse(*address, error)) {
    return false;
  }
  std::vector<common::UniqueFd> fds;
  for (int i = 0; i < options_.workers; ++i) {
    common::ListenResult result =
        common::openListenSocket(*address, options_.backlog, /*reuse_port=*/true);
    if (!result.fd.valid()) {
      *error = result.error;
      return false;
    }
    // Inherited by every accepted connection (see Worker::kNotSentLowatBytes).
    const int lowat = Worker::kNotSentLowatBytes;
    if (setsockopt(result.fd.get(), IPPROTO_TCP, TCP_NOTSENT_LOWAT, &lowat, sizeof lowat) != 0) {
      PLOG(WARNING) << "TCP_NOTSENT_LOWAT on the listener: stalled clients pin more kernel memory";
    }
    if (i == 0 && address->port() == 0) {
      // Port 0: the first listener's port is the one every other worker joins.
      const auto bound = common::SocketAddress::localOf(result.fd.get());
      CHECK(bound.has_value()) << "getsockname on the first listener";
      address->setPort(bound->port());
    }
    fds.push_back(std::move(result.fd));
  }
  address_ = *address;
  listeners_open_ = options_.workers;
  for (int i = 0; i < options_.workers; ++i) {
    workers_.push_back(std::make_unique<Worker>(i, options_, std::move(fds[i]), limit_,
                                                per_ip_limit_, listeners_open_));
  }
  return true;
}

void Server::start() {
  for (auto& worker : workers_) {
    worker->start();
  }
}

void Server::beginDrain() {
  draining_ = true;
  for (auto& worker : workers_) {
    worker->post([w = worker.get()] { w->beginDrain(); });
  }
}

void Server::stop() {
  draining_ = true;
  for (auto& worker : workers_) {
    worker->post([w = worker.get()] { w->stop(); });
  }
}

void Server::join() {
  for (auto& worker : workers_) {
    worker->join();
  }
}

uint64_t Server::activeConnections() const {
  uint64_t active = 0;
  for (const auto& snapshot : snapshots()) {
    active += snapshot.active();
  }
  return active;
}

std::vector<common::StatsSnapshot> Server::snapshots() const {
  std::vector<common::StatsSnapshot> result;
  result.reserve(workers_.size());
  for (const auto& worker : workers_) {
    result.push_back(worker->stats().snapshot());
  }
  return result;
}

std::vector<common::MemoryGauges> Server::memoryGauges() const {
  std::vector<common::MemoryGauges> result;
  result.reserve(workers_.size());
  for (const auto& worker : workers_) {
    result.push_back(worker->memory());
  }
  return result;
}

}  // namespace reactord::server
