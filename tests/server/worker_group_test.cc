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
  workers.start(observer);

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

}  // namespace
}  // namespace reactord::server
