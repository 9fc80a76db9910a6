// The memory budget's overload actions, without a cgroup (overload_cgroup_test.py has the real
// limit): a small --max_buffered_bytes, clients that send without reading, and what the server
// does about them while a well-behaved client keeps being served.
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "tests/fault/fault_util.h"
#include "tests/support/test_client.h"

namespace reactord::testing {
namespace {

// The accept queue of the listener on `port`: /proc/net/tcp's rx_queue of a LISTEN socket holds
// the connections that completed their handshake and wait for accept().
long acceptQueue(uint16_t port) {
  std::ifstream file("/proc/net/tcp");
  std::string line;
  std::getline(file, line);
  long queued = 0;
  while (std::getline(file, line)) {
    std::istringstream fields(line);
    std::string slot, local, remote, state, queues;
    fields >> slot >> local >> remote >> state >> queues;
    if (state == "0A" && std::stoul(local.substr(local.rfind(':') + 1), nullptr, 16) == port) {
      queued += std::stol(queues.substr(queues.find(':') + 1), nullptr, 16);
    }
  }
  return queued;
}

// A stats line written now (SIGUSR1), as key=value pairs.
std::map<std::string, std::string> statsNow(ServerProcess& server) {
  const size_t before = server.log().size();
  server.signal(SIGUSR1);
  waitUntil([&] { return server.log().find("] stats ", before) != std::string::npos; }, seconds(5));
  return server.statsLine("stats");
}

// One worker with a 4 MiB budget (marks at 2, 3 and 3.6 MiB). Each client that sends without
// reading is charged its output buffer (up to 320 KiB), the kernel's send queue (128 KiB) and,
// once paused, its receive buffer: 40 of them are far over the budget. The worker pauses reading,
// stops accepting (a new connection waits in the accept queue, it is not reset), closes the most
// stalled ones, and after two seconds of not accepting closes stalled ones to let the waiting
// client in. The client that reads its replies is served all along.
TEST(FaultOverload, ActionsInOrderAndTheReaderIsServedThroughout) {
  ServerProcess server({"--workers=1", "--max_buffered_bytes=4194304"});
  EXPECT_TRUE(server.waitForLog("buffer budget 4194304 bytes", seconds(1))) << server.log();
  auto reader = TestClient::connect(server.port());
  ASSERT_TRUE(reader);
  ASSERT_EQ(reader->exchange(randomBytes(64 << 10, 1)), randomBytes(64 << 10, 1));

  std::vector<TestClient> abusers;
  for (int i = 0; i < 40; ++i) {
    auto client = TestClient::connectWithin(server.port(), milliseconds(2000));
    if (!client) {
      break;  // accepting stopped and the queue of this listener is full: enough
    }
    const int small = 64 << 10;
    setsockopt(client->fd(), SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    abusers.push_back(std::move(*client));
  }
  uint64_t sent = 0;
  sendAllWithoutReading(abusers, randomBytes(2 << 20, 2), server, milliseconds(1000), &sent);
  const auto during = statsNow(server);
  EXPECT_GE(statOf(during, "overload_state"), 1) << server.log();
  EXPECT_LE(statOf(during, "buffered_bytes"), 4194304) << "closing keeps use under the budget";

  // The reader is served while the abusers hang on.
  EXPECT_EQ(reader->exchange(randomBytes(256 << 10, 3)), randomBytes(256 << 10, 3));

  // A newcomer: queued (not reset) while the worker does not accept, then let in.
  auto newcomer = TestClient::connectWithin(server.port(), milliseconds(5000));
  ASSERT_TRUE(newcomer);
  ASSERT_TRUE(newcomer->sendAll("hello\n"));
  const std::string reply = newcomer->readExactly(6, milliseconds(10000));
  EXPECT_EQ(reply, "hello\n") << "queued " << acceptQueue(server.port());

  for (TestClient& client : abusers) {
    client.abort();
  }
  ASSERT_TRUE(
      waitUntil([&] { return statOf(statsNow(server), "overload_state") == 0; }, seconds(10)))
      << server.log();
  EXPECT_EQ(reader->exchange(randomBytes(1 << 20, 4)), randomBytes(1 << 20, 4));
  reader.reset();
  newcomer.reset();
  ASSERT_EQ(stopServer(server), 0);
  const auto final_line = server.statsLine();
  EXPECT_GE(statOf(final_line, "overload_pause_reading"), 1);
  EXPECT_GE(statOf(final_line, "overload_stop_accepting"), 1);
  EXPECT_GE(statOf(final_line, "overload_closed"), 1);
  EXPECT_GE(statOf(final_line, "overload_close_rounds"), 1);
  EXPECT_EQ(statOf(final_line, "overload_state"), 0);
  EXPECT_EQ(statOf(final_line, "buffered_bytes"), 0);
  std::printf("[ figure ] 4 MiB budget, %zu clients sending without reading: %s\n", abusers.size(),
              server.log().substr(server.log().rfind("overload_closed=")).substr(0, 120).c_str());
}

// While the worker does not accept, a new connection waits in the kernel's accept queue: it is
// neither refused nor reset, and it is served once use falls under the mark where accepting
// resumes. Idle connections make this exact: each is charged 4 KiB, so with a 1 MiB budget the
// 192nd reaches the 75 % mark (786 KiB; the 8 after it stay queued) and 152 (608 KiB) are under
// the 65 % mark (681 KiB) where accepting resumes.
TEST(FaultOverload, StoppedAcceptingLeavesNewcomersQueued) {
  ServerProcess server({"--workers=1", "--max_buffered_bytes=1048576"});
  std::vector<TestClient> idle;
  for (int i = 0; i < 200; ++i) {
    auto client = TestClient::connectWithin(server.port(), milliseconds(2000));
    ASSERT_TRUE(client) << i;
    idle.push_back(std::move(*client));
  }
  ASSERT_TRUE(
      waitUntil([&] { return statOf(statsNow(server), "overload_state") == 2; }, seconds(5)))
      << server.log();
  EXPECT_EQ(statOf(statsNow(server), "active"), 192);
  const long queued = acceptQueue(server.port());
  EXPECT_EQ(queued, 8);
  auto newcomer = TestClient::connectWithin(server.port(), milliseconds(2000));
  ASSERT_TRUE(newcomer) << "the kernel completes the handshake: the connection waits, queued";
  ASSERT_TRUE(newcomer->sendAll("still here\n"));
  EXPECT_TRUE(waitUntil([&] { return acceptQueue(server.port()) == queued + 1; }, seconds(2)));
  EXPECT_EQ(newcomer->readFor(milliseconds(300)), "") << "not served while not accepting";
  EXPECT_EQ(acceptQueue(server.port()), queued + 1);
  idle.erase(idle.begin(), idle.begin() + 40);  // the first 40 were accepted: 152 remain
  EXPECT_EQ(newcomer->readExactly(11, milliseconds(5000)), "still here\n");
  EXPECT_EQ(newcomer->lastReadError(), 0);
  EXPECT_EQ(acceptQueue(server.port()), 0);
  idle.clear();
  newcomer.reset();  // so that the drain does not wait for it
  ASSERT_EQ(stopServer(server), 0);
  EXPECT_EQ(statOf(server.statsLine(), "overload_stop_accepting"), 1);
  EXPECT_EQ(statOf(server.statsLine(), "overload_closed"), 0) << "idle connections hold no output";
}

}  // namespace
}  // namespace reactord::testing
