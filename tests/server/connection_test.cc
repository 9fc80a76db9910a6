// The transport and the two protocols on a real event_base, over a socketpair: no process, no
// TCP, every step driven by the test's own loop.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/event_base_ptr.h"
#include "common/memory_account.h"
#include "common/unique_fd.h"
#include "common/wire_protocol.h"
#include "server/ack_protocol.h"
#include "server/echo_protocol.h"
#include "server/protocol_connection.h"

namespace reactord::server {
namespace {

using common::kAckReply;
using Clock = std::chrono::steady_clock;

// A worker's part for one connection: the context, the loop, and the peer end of the socketpair.
class Harness : public ConnectionOwner {
 public:
  explicit Harness(size_t max_pending_bytes = 256 * 1024, size_t max_message_bytes = 64)
      : base_(common::makeSingleThreadBase()), scratch_(new char[kScratchBytes]) {
    context_.base = base_.get();
    context_.scratch = scratch_.get();
    context_.stats = &stats_;
    context_.tick = &tick_;
    context_.max_pending_bytes = max_pending_bytes;
    context_.max_message_bytes = max_message_bytes;
    context_.owner = this;
    context_.account = &account_;
    context_.pause_above = max_pending_bytes;
    context_.max_buffer_capacity = max_pending_bytes + kScratchBytes;
  }

  template <typename P>
  void open() {
    int fds[2];
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds), 0);
    peer_.reset(fds[1]);
    connection_ =
        std::make_unique<ProtocolConnection<P>>(context_, common::UniqueFd(fds[0]), IpKey{});
  }

  void connectionFinished(Connection& connection) override {
    ASSERT_EQ(&connection, connection_.get());
    connection_.reset();
  }

  // Runs the loop until `done` holds (false after 5 s).
  bool runUntil(const std::function<bool()>& done) {
    const auto deadline = Clock::now() + std::chrono::seconds(5);
    while (!done()) {
      if (Clock::now() > deadline) {
        return false;
      }
      event_base_loop(base_.get(), EVLOOP_NONBLOCK);
    }
    return true;
  }

  void send(const std::string& data) {
    size_t sent = 0;
    while (sent < data.size()) {
      const ssize_t n = ::write(peer_.get(), data.data() + sent, data.size() - sent);
      if (n > 0) {
        sent += n;
      } else {
        ASSERT_EQ(errno, EAGAIN);
        event_base_loop(base_.get(), EVLOOP_NONBLOCK);  // let the server read
        read(0);                                        // and make room for its answers
      }
    }
  }
  // Reads what has arrived, up to `limit` bytes in all (0 = as much as there is).
  void read(size_t limit) {
    char buffer[65536];
    while (limit == 0 || received_.size() < limit) {
      const ssize_t n = ::read(peer_.get(), buffer, sizeof buffer);
      if (n > 0) {
        received_.append(buffer, n);
      } else {
        peer_eof_ = n == 0;
        return;
      }
    }
  }
  // Runs the loop and reads until `size` bytes arrived or the server closed.
  bool receive(size_t size) {
    return runUntil([&] {
      read(0);
      return received_.size() >= size || peer_eof_;
    });
  }
  bool receiveEof() {
    return runUntil([&] {
      read(0);
      return peer_eof_;
    });
  }

  // A share no test reaches: the overload levels are the worker's business, not tested here.
  common::MemoryAccount account_{uint64_t{1} << 40, [](void*) {}, nullptr};
  ConnectionContext context_;
  WorkerStats stats_;
  uint32_t tick_ = 0;
  common::EventBasePtr base_;
  std::unique_ptr<char[]> scratch_;
  common::UniqueFd peer_;
  std::unique_ptr<Connection> connection_;
  std::string received_;
  bool peer_eof_ = false;
};

std::string repeat(std::string_view unit, size_t count) {
  std::string text;
  for (size_t i = 0; i < count; ++i) {
    text += unit;
  }
  return text;
}

TEST(ConnectionTest, EchoByteByByteThenHalfCloseGivesEverythingAndEof) {
  Harness h;
  h.open<EchoProtocol>();
  const std::string text = "the tutorial's message, one byte at a time";
  for (size_t i = 0; i < text.size(); ++i) {
    h.send(text.substr(i, 1));
    ASSERT_TRUE(h.runUntil([&] { return h.stats_.snapshot().bytes_out == i + 1; }));
  }
  ASSERT_TRUE(h.receive(text.size()));
  EXPECT_EQ(h.received_, text);
  shutdown(h.peer_.get(), SHUT_WR);
  ASSERT_TRUE(h.receiveEof());
  EXPECT_TRUE(h.runUntil([&] { return h.connection_ == nullptr; })) << "not finished after EOF";
  EXPECT_EQ(h.stats_.snapshot().reads, text.size());
}

TEST(ConnectionTest, EchoLargeChunksComeBackInOrder) {
  Harness h;
  h.open<EchoProtocol>();
  std::string data(3 * 1024 * 1024, '\0');
  for (size_t i = 0; i < data.size(); ++i) {
    data[i] = static_cast<char>(i * 131 + i / 7);
  }
  h.send(data);
  ASSERT_TRUE(h.receive(data.size()));
  EXPECT_TRUE(h.received_ == data);
}

TEST(ConnectionTest, BackpressureStopsReadingAndResumesBelowHalf) {
  Harness h(/*max_pending_bytes=*/4096);
  h.open<EchoProtocol>();
  // The peer never reads: the socket's buffer fills, then pending output passes the limit.
  const std::string chunk(64 * 1024, 'x');
  size_t taken = 0;
  for (int i = 0; i < 200 && h.connection_->reading(); ++i) {
    const ssize_t n = ::write(h.peer_.get(), chunk.data(), chunk.size());
    taken += n > 0 ? n : 0;
    event_base_loop(h.base_.get(), EVLOOP_NONBLOCK);
  }
  ASSERT_FALSE(h.connection_->reading()) << "still reading after " << taken << " bytes";
  EXPECT_LT(h.stats_.snapshot().bytes_in, taken + 1);
  // Reading everything it echoed lets it drain its output and read again, to the last byte.
  shutdown(h.peer_.get(), SHUT_WR);
  ASSERT_TRUE(h.receiveEof());
  EXPECT_EQ(h.received_.size(), taken);
}

TEST(ConnectionTest, AckFedByteByByteAnswersEachMessageOnce) {
  Harness h;
  h.open<AckProtocol>();
  const std::string input = "one\ntwo\nthree\n";
  for (size_t i = 0; i < input.size(); ++i) {
    h.send(input.substr(i, 1));
    ASSERT_TRUE(h.runUntil([&] { return h.stats_.snapshot().reads == i + 1; }));
  }
  ASSERT_TRUE(h.receive(3 * kAckReply.size()));
  EXPECT_EQ(h.received_, repeat(kAckReply, 3));
  EXPECT_EQ(h.stats_.snapshot().messages, 3u);
}

TEST(ConnectionTest, AckLargeChunkOfLinesAndALastUnterminatedOne) {
  Harness h;
  h.open<AckProtocol>();
  constexpr size_t kLines = 100000;  // 1.2 MB in, 1.7 MB of replies
  h.send(repeat("message\n", kLines) + "last");
  shutdown(h.peer_.get(), SHUT_WR);
  ASSERT_TRUE(h.receiveEof());
  EXPECT_EQ(h.received_.size(), (kLines + 1) * kAckReply.size());
  EXPECT_EQ(h.stats_.snapshot().messages, kLines + 1);
}

TEST(ConnectionTest, AckOverlongMessageGetsTheErrorThenTheClose) {
  Harness h(256 * 1024, /*max_message_bytes=*/10);
  h.open<AckProtocol>();
  h.send("short\n" + std::string(11, 'y') + "\nnever answered\n");
  ASSERT_TRUE(h.receiveEof());
  EXPECT_EQ(h.received_, std::string(kAckReply) + std::string(common::kTooLongReply));
  EXPECT_EQ(h.stats_.snapshot().too_long, 1u);
}

TEST(ConnectionTest, OneshotAnswersTheFirstReadAndCloses) {
  Harness h;
  h.context_.oneshot = true;
  h.open<AckProtocol>();
  h.send("Hello World");  // no '\n': answered as the last message of the connection
  ASSERT_TRUE(h.receiveEof());
  EXPECT_EQ(h.received_, kAckReply);
}

TEST(ConnectionTest, MessageTimeoutCountsOnlyTicksSpentReading) {
  Harness h;
  h.context_.timeouts.message_ticks = 3;
  h.open<AckProtocol>();
  h.send("unfinished");
  ASSERT_TRUE(h.runUntil([&] { return h.stats_.snapshot().reads == 1; }));
  for (uint32_t tick = 1; tick <= 2; ++tick) {
    h.connection_->onTick(++h.tick_);
  }
  EXPECT_EQ(h.stats_.snapshot().message_timeout_closed, 0u);
  h.connection_->onTick(++h.tick_);
  EXPECT_EQ(h.stats_.snapshot().message_timeout_closed, 1u);
  ASSERT_TRUE(h.receiveEof());
  EXPECT_EQ(h.received_, common::kMessageTimeoutReply);
}

TEST(ConnectionTest, IdleTimeoutFinishesTheConnectionOnTick) {
  Harness h;
  h.context_.timeouts.idle_ticks = 2;
  h.open<EchoProtocol>();
  h.connection_->onTick(++h.tick_);
  EXPECT_FALSE(h.connection_->finished());
  h.connection_->onTick(++h.tick_);
  EXPECT_TRUE(h.connection_->finished());
  EXPECT_EQ(h.stats_.snapshot().idle_closed, 1u);
}

// Writes `chunk` from the peer, never reading, until the connection stops reading.
size_t floodUntilPaused(Harness& h, const std::string& chunk) {
  size_t taken = 0;
  for (int i = 0; i < 400 && h.connection_->reading(); ++i) {
    const ssize_t n = ::write(h.peer_.get(), chunk.data(), chunk.size());
    taken += n > 0 ? n : 0;
    event_base_loop(h.base_.get(), EVLOOP_NONBLOCK);
  }
  return taken;
}

// The kernel's default receive buffer: what a paused connection is charged for its queue.
uint64_t defaultReceiveBuffer(int fd) {
  int size = 0;
  socklen_t length = sizeof size;
  getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, &length);
  return static_cast<uint64_t>(size);
}

constexpr uint64_t kConnectionCharge = 4096;                  // connection.cc: kConnectionBytes
constexpr uint64_t kSendQueueCharge = 64 * 1024 + 64 * 1024;  // kNotSentLowatBytes + a segment

// A client that sends bare newlines and never reads: its replies are owed as a count, so the
// connection holds no buffer for them however many it owes, and every one of them arrives, in
// order, once the client reads.
TEST(ConnectionTest, AckOwesRepliesAsACountNotABuffer) {
  Harness h(/*max_pending_bytes=*/256 * 1024);
  h.open<AckProtocol>();
  const size_t taken = floodUntilPaused(h, std::string(16 * 1024, '\n'));
  ASSERT_FALSE(h.connection_->reading()) << "still reading after " << taken << " newlines";
  const uint64_t owed = h.stats_.snapshot().messages * kAckReply.size();
  EXPECT_GT(owed, 256u * 1024) << "paused past --max_pending_bytes of owed replies";
  EXPECT_LE(h.account_.held(),
            kConnectionCharge + kSendQueueCharge + defaultReceiveBuffer(h.peer_.get()))
      << "no buffer for " << owed << " bytes of owed replies";
  shutdown(h.peer_.get(), SHUT_WR);
  ASSERT_TRUE(h.receiveEof());
  EXPECT_EQ(h.received_.size(), taken * kAckReply.size());
  EXPECT_EQ(h.received_, repeat(kAckReply, taken));
  EXPECT_EQ(h.account_.held(), 0u) << "given back with the connection";
}

// A client that sends without reading: the echo buffer's storage stops at --max_pending_bytes
// plus one read, instead of doubling past it.
TEST(ConnectionTest, EchoBufferStopsAtThePendingLimitPlusOneRead) {
  constexpr size_t kMaxPending = 100 * 1024;
  Harness h(kMaxPending);
  h.open<EchoProtocol>();
  const size_t taken = floodUntilPaused(h, std::string(64 * 1024, 'e'));
  ASSERT_FALSE(h.connection_->reading()) << "still reading after " << taken << " bytes";
  const uint64_t buffer = h.account_.held() - kConnectionCharge - kSendQueueCharge -
                          defaultReceiveBuffer(h.peer_.get());
  EXPECT_GT(buffer, kMaxPending);
  EXPECT_LE(buffer, kMaxPending + kScratchBytes) << "doubling would have made it 128 or 256 KiB";
  shutdown(h.peer_.get(), SHUT_WR);
  ASSERT_TRUE(h.receiveEof());
  EXPECT_EQ(h.received_.size(), taken);
  EXPECT_EQ(h.account_.held(), 0u);
}

}  // namespace
}  // namespace reactord::server
