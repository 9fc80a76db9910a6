// The accept queue read from TCP_INFO, on real loopback listeners with a known number of
// connections that were never accepted.
#include "common/accept_queue.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "common/listen_counters.h"
#include "common/listen_socket.h"
#include "common/socket_address.h"
#include "common/unique_fd.h"

namespace reactord::common {
namespace {

using Clock = std::chrono::steady_clock;

UniqueFd listenOnLoopback(int backlog, SocketAddress* bound) {
  ListenResult result =
      openListenSocket(*SocketAddress::parse("127.0.0.1", 0), backlog, /*reuse_port=*/false);
  EXPECT_TRUE(result.fd.valid()) << result.error;
  *bound = *SocketAddress::localOf(result.fd.get());
  return std::move(result.fd);
}

// A non-blocking connect: on loopback the handshake completes (or the SYN is dropped) without
// the listener's owner doing anything.
UniqueFd startConnect(const SocketAddress& address) {
  UniqueFd fd(socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  EXPECT_TRUE(fd.valid());
  const int rc = connect(fd.get(), address.get(), address.length());
  EXPECT_TRUE(rc == 0 || errno == EINPROGRESS) << errno;
  return fd;
}

// Waits up to 10 s (generous: a loaded 2-core machine) for `done`.
bool waitFor(const std::function<bool()>& done) {
  const auto deadline = Clock::now() + std::chrono::seconds(10);
  while (!done()) {
    if (Clock::now() >= deadline) {
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

uint32_t queueLength(int fd) {
  const auto queue = readAcceptQueue(fd);
  EXPECT_TRUE(queue.has_value());
  return queue ? queue->length : 0;
}

TEST(AcceptQueueTest, CountsConnectionsWaitingForAccept) {
  SocketAddress address;
  const UniqueFd listener = listenOnLoopback(8, &address);
  const auto empty = readAcceptQueue(listener.get());
  ASSERT_TRUE(empty.has_value());
  EXPECT_EQ(empty->length, 0u);
  EXPECT_EQ(empty->limit, 8u);  // the backlog (below net.core.somaxconn)

  std::vector<UniqueFd> clients;
  for (int i = 0; i < 3; ++i) {
    clients.push_back(startConnect(address));
  }
  ASSERT_TRUE(waitFor([&] { return queueLength(listener.get()) == 3; }))
      << queueLength(listener.get());
  UniqueFd accepted(accept(listener.get(), nullptr, nullptr));
  ASSERT_TRUE(accepted.valid());
  EXPECT_EQ(queueLength(listener.get()), 2u);
  EXPECT_EQ(readAcceptQueue(listener.get())->limit, 8u);
}

TEST(AcceptQueueTest, AFullQueueStopsAtItsLimitAndTheKernelCountsTheOverflow) {
  std::string error;
  const auto before = readListenCounters(&error);
  ASSERT_TRUE(before.has_value()) << error;
  SocketAddress address;
  const UniqueFd listener = listenOnLoopback(2, &address);
  std::vector<UniqueFd> clients;
  for (int i = 0; i < 6; ++i) {
    clients.push_back(startConnect(address));
  }
  // The kernel keeps one more than the backlog (the queue is full only past it) and drops the
  // SYNs of the others, counting each drop in ListenOverflows of this network namespace.
  ASSERT_TRUE(waitFor([&] { return queueLength(listener.get()) == 3; }));
  ASSERT_TRUE(waitFor([&] {
    const auto now = readListenCounters(&error);
    return now && now->overflows > before->overflows && now->drops > before->drops;
  })) << error;
  EXPECT_EQ(queueLength(listener.get()), 3u);
}

TEST(AcceptQueueTest, NotAListeningSocket) {
  SocketAddress address;
  const UniqueFd listener = listenOnLoopback(8, &address);
  const UniqueFd client = startConnect(address);
  ASSERT_TRUE(waitFor([&] { return queueLength(listener.get()) == 1; }));
  EXPECT_FALSE(readAcceptQueue(client.get()).has_value());  // a connected socket
  const UniqueFd udp(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  EXPECT_FALSE(readAcceptQueue(udp.get()).has_value());
  EXPECT_FALSE(readAcceptQueue(-1).has_value());
}

}  // namespace
}  // namespace reactord::common
