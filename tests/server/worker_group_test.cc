// Workers on a real port 0 listener, in-process: the drain reports every worker makes.
#include "server/worker_group.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "common/cidr_list.h"
#include "common/proxy_header_writer.h"
#include "common/socket_address.h"
#include "common/unique_fd.h"

namespace reactord::server {
namespace {

using Clock = std::chrono::steady_clock;

class CountingObserver : public DrainObserver {
 public:
  void listenersClosed(int /*worker*/) override { ++listeners_closed; }
  void connectionsGone(int /*worker*/) override { ++connections_gone; }
  std::atomic<int> listeners_closed{0};
  std::atomic<int> connections_gone{0};
};

bool waitFor(const std::function<bool()>& condition) {
  const auto deadline = Clock::now() + std::chrono::seconds(5);
  while (!condition()) {
    if (Clock::now() > deadline) {
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

// A blocking client socket connected to 127.0.0.1:port, or an invalid one (errno set).
common::UniqueFd connectTo(uint16_t port) {
  common::UniqueFd fd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    fd.reset();
  }
  return fd;
}

TEST(WorkerGroupTest, DrainReportsListenersClosedThenEveryConnectionGone) {
  ServerOptions options;
  options.bind = "127.0.0.1";
  options.port = 0;
  options.workers = 2;
  WorkerGroup workers(options);
  std::string error;
  ASSERT_TRUE(workers.listen(&error)) << error;
  const uint16_t port = workers.address().port();
  ASSERT_NE(port, 0);
  CountingObserver observer;
  ASSERT_TRUE(workers.start(observer, &error)) << error;

  common::UniqueFd client = connectTo(port);
  ASSERT_TRUE(client.valid());
  ASSERT_EQ(::write(client.get(), "ping", 4), 4);
  char reply[4];
  ASSERT_EQ(::read(client.get(), reply, sizeof reply), 4);
  EXPECT_EQ(std::string(reply, 4), "ping");

  workers.beginDrain();
  EXPECT_TRUE(workers.draining());
  ASSERT_TRUE(waitFor([&] { return observer.listeners_closed == 2; }));
  EXPECT_FALSE(connectTo(port).valid()) << "a connect during the drain was accepted";
  EXPECT_EQ(errno, ECONNREFUSED);
  // One worker has the client; the other had none and reported so at once.
  EXPECT_EQ(observer.connections_gone, 1);
  client.reset();
  ASSERT_TRUE(waitFor([&] { return observer.connections_gone == 2; }));
  EXPECT_EQ(workers.activeConnections(), 0u);

  workers.stop();
  workers.join();
  uint64_t accepted = 0;
  for (const WorkerCounts& counts : workers.snapshots()) {
    accepted += counts.accepted;
    EXPECT_EQ(counts.forced_closed, 0u);
  }
  EXPECT_EQ(accepted, 1u);
}

// --proxy_protocol: a worker whose last pending header is refused by the per-address limit (the
// address's connection being on the other worker) reports that it has no connection left.
TEST(WorkerGroupTest, DrainReportsAWorkerWhoseLastPendingHeaderWasRefused) {
  ServerOptions options;
  options.bind = "127.0.0.1";
  options.port = 0;
  options.workers = 2;
  options.proxy_protocol = true;
  std::string error;
  options.proxy_protocol_from = *common::CidrList::parse("127.0.0.0/8", &error);
  options.proxy_header_timeout_s = 60;
  options.max_connections_per_ip = 1;
  WorkerGroup workers(options);
  ASSERT_TRUE(workers.listen(&error)) << error;
  const uint16_t port = workers.address().port();
  CountingObserver observer;
  ASSERT_TRUE(workers.start(observer, &error)) << error;

  // Every header claims 192.0.2.9: the first connection holds its one slot.
  const std::string header = common::proxyHeaderV1(*common::SocketAddress::parse("192.0.2.9", 1),
                                                   *common::SocketAddress::parse("127.0.0.1", 2));
  common::UniqueFd holder = connectTo(port);
  ASSERT_TRUE(holder.valid());
  const std::string first = header + "ping";
  ASSERT_EQ(::write(holder.get(), first.data(), first.size()), static_cast<ssize_t>(first.size()));
  char reply[4];
  ASSERT_EQ(::read(holder.get(), reply, sizeof reply), 4);
  // Sixteen headers left unfinished: the kernel spreads them over both workers (all on the
  // holder's worker: one chance in 65,536; the per-worker counts below would show it).
  constexpr int kPending = 16;
  std::vector<common::UniqueFd> pending;
  for (int i = 0; i < kPending; ++i) {
    pending.push_back(connectTo(port));
    ASSERT_TRUE(pending.back().valid());
    ASSERT_EQ(::write(pending.back().get(), header.data(), 6), 6);
  }
  workers.beginDrain();
  ASSERT_TRUE(waitFor([&] { return observer.listeners_closed == 2; }));
  EXPECT_EQ(observer.connections_gone, 0);
  for (common::UniqueFd& fd : pending) {
    const std::string rest = header.substr(6);
    ASSERT_EQ(::write(fd.get(), rest.data(), rest.size()), static_cast<ssize_t>(rest.size()));
    EXPECT_EQ(::read(fd.get(), reply, sizeof reply), 0) << "refused without a reply";
  }
  // The holder's worker still serves it; the other one has nothing left.
  EXPECT_TRUE(waitFor([&] { return observer.connections_gone == 1; }));
  holder.reset();
  EXPECT_TRUE(waitFor([&] { return observer.connections_gone == 2; }));

  workers.stop();
  workers.join();
  uint64_t refused = 0;
  for (const WorkerCounts& counts : workers.snapshots()) {
    EXPECT_GT(counts.proxy_accepted, 0u) << "every header went to one worker";
    refused += counts.per_ip_rejected;
  }
  EXPECT_EQ(refused, static_cast<uint64_t>(kPending));
}

}  // namespace
}  // namespace reactord::server
