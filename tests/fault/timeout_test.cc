// The write-stall, message (slowloris) and idle timeouts, on time.
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <algorithm>
#include <vector>

#include "tests/fault/close_watcher.h"
#include "tests/fault/fault_util.h"
#include "tests/support/test_client.h"

namespace reactord::testing {
namespace {

// A client that sends `data` without reading, as far as the kernel and the server take it, and
// watches the server's output pile up unread in its receive queue. The server's output stops
// moving between two moments the client can see: after its receive queue last grew (the server
// can still fill its own send buffer then) and before the client's own sends stop being taken (the
// server stops reading only once its send buffer is full and its pending output is over the limit).
struct Pusher {
  TestClient client;
  size_t sent = 0;
  int unread = 0;
  Clock::time_point output_moved = Clock::now();
  Clock::time_point input_taken = Clock::now();

  void push(const std::string& data) {
    ssize_t n;
    while (sent < data.size() && (n = ::send(client.fd(), data.data() + sent, data.size() - sent,
                                             MSG_NOSIGNAL | MSG_DONTWAIT)) > 0) {
      sent += n;
      input_taken = Clock::now();
    }
    int now_unread = 0;
    if (ioctl(client.fd(), FIONREAD, &now_unread) == 0 && now_unread > unread) {
      unread = now_unread;
      output_moved = Clock::now();
    }
  }
};

// Checks that every time in `times` (seconds; -1 = never) is within `target` +- 1 s; the
// fastest and the slowest, for the figure.
std::pair<double, double> expectAllAround(const std::vector<double>& times, double target) {
  double fastest_s = 1e9;
  double slowest_s = 0;
  for (size_t i = 0; i < times.size(); ++i) {
    EXPECT_GE(times[i], target - 1.0) << "connection " << i << " (-1: never closed)";
    EXPECT_LE(times[i], target + 1.0) << "connection " << i;
    fastest_s = std::min(fastest_s, times[i]);
    slowest_s = std::max(slowest_s, times[i]);
  }
  return {fastest_s, slowest_s};
}

// 7. Ten clients that stop reading are closed within the write timeout (2 s) + 1 s of their output
// getting stuck; a client that reads only now and then (every 20 ms or so) is not.
TEST(FaultTimeout, WriteStallClosesClientsThatNeverReadOnTime) {
  constexpr int kStalled = 10;
  ServerProcess server(
      {"--workers=2", "--write_timeout_s=2", "--max_pending_bytes=65536", "--idle_timeout_s=30"});
  const std::string data = randomBytes(16 << 20, 9);
  auto slow_client = TestClient::connect(server.port());
  ASSERT_TRUE(slow_client);
  Pusher slow{std::move(*slow_client)};
  std::vector<Pusher> stalled;
  for (int i = 0; i < kStalled; ++i) {
    auto client = TestClient::connect(server.port());
    ASSERT_TRUE(client);
    stalled.push_back(Pusher{std::move(*client)});
  }
  // The stalled clients push for as long as they are open.
  std::vector<int> fds;
  for (auto& pusher : stalled) {
    fds.push_back(pusher.client.fd());
  }
  CloseWatcher watcher(fds);
  const auto origin = Clock::now();
  const auto deadline = origin + seconds(15);
  size_t slow_read = 0;
  std::vector<double> closed_after = watcher.closedAfter(origin);
  while (Clock::now() < deadline && std::count(closed_after.begin(), closed_after.end(), -1.0)) {
    slow.push(data);
    slow_read += slow.client.readFor(milliseconds(1)).size();  // reads what is there, now and then
    for (int i = 0; i < kStalled; ++i) {
      if (closed_after[i] < 0) {
        stalled[i].push(data);
      }
    }
    std::this_thread::sleep_for(milliseconds(20));
    closed_after = watcher.closedAfter(origin);
  }
  // The close comes 2 +- 1 s after the stall, which began between the two moments of Pusher.
  std::vector<double> since_output;  // from the last output that reached the client
  std::vector<double> since_input;   // from the last input the server's side took
  for (int i = 0; i < kStalled; ++i) {
    const double moved_s = std::chrono::duration<double>(stalled[i].output_moved - origin).count();
    const double taken_s = std::chrono::duration<double>(stalled[i].input_taken - origin).count();
    since_output.push_back(closed_after[i] < 0 ? -1.0 : closed_after[i] - moved_s);
    since_input.push_back(closed_after[i] < 0 ? -1.0 : closed_after[i] - taken_s);
    EXPECT_GE(since_output.back(), 2.0 - 1.0) << "connection " << i << " (-1: never closed)";
    EXPECT_LE(since_input.back(), 2.0 + 1.0) << "connection " << i;
  }
  const double fastest_s = *std::min_element(since_input.begin(), since_input.end());
  const double slowest_s = *std::max_element(since_output.begin(), since_output.end());
  EXPECT_GT(slow_read, 0u);
  EXPECT_FALSE(slow.client.waitPeerGone(milliseconds(1))) << "the slow reader was closed too";
  slow.client.abort();
  ASSERT_EQ(stopServer(server), 0);
  EXPECT_EQ(statOf(server.statsLine(), "write_timeout_closed"), kStalled) << server.log();
  std::printf(
      "[ figure ] %d stalled clients closed %.2f-%.2f s after their output stuck "
      "(timeout 2 s); write_timeout_closed=%ld; the slow reader survived\n",
      kStalled, fastest_s, slowest_s, statOf(server.statsLine(), "write_timeout_closed"));
}

// 8. Slowloris: clients that trickle a byte every 200 ms and never end their line get the error
// and are closed at --message_timeout_s (2 s) +-1 s; one that sends short complete lines slowly is
// served throughout.
TEST(FaultTimeout, SlowlorisTrickleClosesAtTheMessageTimeout) {
  constexpr int kLoris = 10;
  ServerProcess server({"--workers=2", "--protocol=ack", "--message_timeout_s=2"});
  std::vector<TestClient> loris;
  for (int i = 0; i < kLoris; ++i) {
    auto client = TestClient::connect(server.port());
    ASSERT_TRUE(client);
    loris.push_back(std::move(*client));
  }
  auto honest = TestClient::connect(server.port());
  ASSERT_TRUE(honest);
  std::vector<int> fds;
  for (auto& client : loris) {
    fds.push_back(client.fd());
  }
  CloseWatcher watcher(fds);
  const auto start = Clock::now();
  std::string honest_reply;
  int honest_lines = 0;
  for (int tick = 0; secondsSince(start) < 6.0; ++tick) {
    const std::vector<double> closed_after = watcher.closedAfter(start);
    for (int i = 0; i < kLoris; ++i) {
      if (closed_after[i] < 0) {
        ::send(loris[i].fd(), "a", 1, MSG_NOSIGNAL);
      }
    }
    // The honest client: one complete line every 600 ms, its bytes spread over 3 ticks.
    ::send(honest->fd(), tick % 3 == 2 ? "c\n" : "b", tick % 3 == 2 ? 2 : 1, MSG_NOSIGNAL);
    honest_lines += tick % 3 == 2 ? 1 : 0;
    honest_reply += honest->readFor(milliseconds(1));
    std::this_thread::sleep_for(milliseconds(200));
  }
  ASSERT_TRUE(honest->sendAll("last\n"));  // completes whatever it had begun
  const size_t expected_size = (honest_lines + 1) * 17;
  if (honest_reply.size() < expected_size) {
    honest_reply += honest->readExactly(expected_size - honest_reply.size(), seconds(5));
  }
  EXPECT_TRUE(honest_reply.size() % 17 == 0 && honest_reply.ends_with("Message received\n"));
  const int honest_acks = static_cast<int>(honest_reply.size() / 17);
  for (int i = 0; i < kLoris; ++i) {
    EXPECT_EQ(loris[i].readUntilClosed(seconds(1)), "ERR message timeout\n") << i;
  }
  const auto [fastest_s, slowest_s] = expectAllAround(watcher.closedAfter(start), 2.0);
  EXPECT_EQ(honest_acks, honest_lines + 1) << "a complete line went unanswered";
  honest.reset();
  ASSERT_EQ(stopServer(server), 0);
  EXPECT_EQ(statOf(server.statsLine(), "message_timeout_closed"), kLoris) << server.log();
  std::printf(
      "[ figure ] %d slowloris clients closed %.2f-%.2f s after their first byte (timeout "
      "2 s); message_timeout_closed=%ld; the honest client got %d acks in 6 s\n",
      kLoris, fastest_s, slowest_s, statOf(server.statsLine(), "message_timeout_closed"),
      honest_acks);
}

// The message timeout counts only time in which the server was willing to read. A client that
// pipelines 524,288 complete lines (1.5 MiB) and reads the replies (5.7 times as many bytes) only
// 4 s later is no slowloris: the server stops reading it on its own backpressure, often with a
// partial line at a read boundary, and that pause is not the client's doing.
TEST(FaultTimeout, MessageTimeoutDoesNotCountTimeTheServerWasNotReading) {
  constexpr size_t kLines = 524288;
  constexpr size_t kAckBytes = 17;
  ServerProcess server({"--workers=1", "--protocol=ack", "--message_timeout_s=2"});
  auto client = TestClient::connect(server.port());
  ASSERT_TRUE(client);
  std::string lines;
  lines.reserve(kLines * 3);
  for (size_t i = 0; i < kLines; ++i) {
    lines += "ab\n";
  }
  bool sent = false;
  std::thread sender([&] { sent = client->sendAll(lines, seconds(30)); });
  std::this_thread::sleep_for(seconds(4));  // the client's behaviour: it reads only now
  const std::string replies = client->readExactly(kLines * kAckBytes, seconds(30));
  sender.join();
  EXPECT_TRUE(sent);
  const size_t acks = replies.size() / kAckBytes;
  EXPECT_EQ(acks, kLines);
  EXPECT_EQ(replies.find("ERR"), std::string::npos) << replies.substr(replies.find("ERR"), 40);
  EXPECT_FALSE(client->waitPeerGone(milliseconds(100))) << "the server closed the connection";
  client.reset();
  ASSERT_EQ(stopServer(server), 0);
  EXPECT_EQ(statOf(server.statsLine(), "message_timeout_closed"), 0) << server.log();
  std::printf(
      "[ figure ] %zu pipelined lines, replies read 4 s later with --message_timeout_s=2: %zu "
      "acks, message_timeout_closed=%ld\n",
      kLines, acks, statOf(server.statsLine(), "message_timeout_closed"));
}

// 9. Idle connections close at --idle_timeout_s (2 s) +-1 s; a client that sends every second
// (timeout / 2) is still served after 6 s (3x the timeout).
TEST(FaultTimeout, IdleConnectionsCloseOnTimeWhileABusyOneSurvives) {
  constexpr int kIdle = 20;
  ServerProcess server({"--workers=2", "--idle_timeout_s=2"});
  std::vector<TestClient> idle;
  for (int i = 0; i < kIdle; ++i) {
    auto client = TestClient::connect(server.port());
    ASSERT_TRUE(client);
    ASSERT_EQ(client->exchange("hi"), "hi");
    idle.push_back(std::move(*client));
  }
  std::vector<int> fds;
  for (auto& client : idle) {
    fds.push_back(client.fd());
  }
  CloseWatcher watcher(fds);
  const auto start = Clock::now();
  auto busy = TestClient::connect(server.port());
  ASSERT_TRUE(busy);
  int busy_echoes = 0;
  auto next_send = Clock::now();
  while (secondsSince(start) < 6.0) {
    if (Clock::now() >= next_send) {
      busy_echoes += busy->exchange("ping", seconds(1)) == "ping" ? 1 : 0;
      next_send += seconds(1);
    }
    std::this_thread::sleep_for(milliseconds(20));
  }
  const double busy_alive_s = secondsSince(start);
  EXPECT_EQ(busy->exchange("still here"), "still here");
  const auto [fastest_s, slowest_s] = expectAllAround(watcher.closedAfter(start), 2.0);
  EXPECT_GE(busy_echoes, 6);
  busy.reset();
  ASSERT_EQ(stopServer(server), 0);
  EXPECT_EQ(statOf(server.statsLine(), "idle_closed"), kIdle) << server.log();
  std::printf(
      "[ figure ] %d idle connections closed %.2f-%.2f s after their last byte (timeout "
      "2 s); the client sending every 1 s still served after %.1f s; idle_closed=%ld\n",
      kIdle, fastest_s, slowest_s, busy_alive_s, statOf(server.statsLine(), "idle_closed"));
}

}  // namespace
}  // namespace reactord::testing
