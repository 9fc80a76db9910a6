#include "server/takeover.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <future>
#include <thread>

#include "common/fd_message.h"
#include "common/listen_socket.h"
#include "common/unix_socket.h"
#include "tests/server/fake_takeover_host.h"
#include "tests/support/open_fds.h"

namespace reactord::server {
namespace {

using common::SocketAddress;
using common::UniqueFd;
using std::chrono::milliseconds;

// Short steps: a silent peer must cost the tests little. Generous enough for a loaded 2-core
// machine running sanitizers: every step here is a local syscall or two.
constexpr TakeoverTimeouts kTimeouts{milliseconds(1500), milliseconds(1500)};

using FakeHost = FakeTakeoverHost;
using testing::openFdCount;

class TakeoverTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(common::seqpacketPair(&old_side_, &new_side_)); }

  // Runs the old side on a thread.
  std::future<TakeoverOutcome> serve(FakeHost& host) {
    return std::async(std::launch::async,
                      [this, &host] { return serveTakeover(old_side_.get(), host, kTimeouts); });
  }
  void sendRaw(int fd, const std::string& text, std::vector<int> fds = {}) {
    std::string error;
    ASSERT_TRUE(
        common::sendFdMessage(fd, text, fds, common::deadlineIn(milliseconds(1000)), &error))
        << error;
  }
  std::string receiveRaw(int fd) {
    return common::receiveFdMessage(fd, 1024, 4, common::deadlineIn(milliseconds(3000)))
        .message.bytes;
  }

  UniqueFd old_side_, new_side_;
};

TEST_F(TakeoverTest, ListenersAreHandedOverAndServeTheSameQueue) {
  FakeHost host(3);
  auto outcome = serve(host);
  TakeoverClient client(kTimeouts);
  std::string error;
  ASSERT_TRUE(client.receive(std::move(new_side_), host.address_, &error)) << error;
  EXPECT_EQ(client.oldPid(), getpid());
  EXPECT_EQ(client.address().toString(), host.address_.toString());
  std::vector<UniqueFd> listeners = client.takeListeners();
  ASSERT_EQ(listeners.size(), 3u);

  // A connection queued in the old process's socket is accepted from the received copy: the same
  // kernel socket, queue included. Close the old copies first, as the old process does.
  host.fds_.clear();
  UniqueFd client_socket(socket(AF_INET, SOCK_STREAM, 0));
  ASSERT_EQ(connect(client_socket.get(), host.address_.get(), host.address_.length()), 0);
  bool accepted = false;
  for (int attempt = 0; attempt < 200 && !accepted; ++attempt) {
    for (const UniqueFd& listener : listeners) {
      UniqueFd connection(accept4(listener.get(), nullptr, nullptr, SOCK_NONBLOCK));
      accepted = accepted || connection.valid();
    }
    if (!accepted) {
      std::this_thread::sleep_for(milliseconds(5));
    }
  }
  EXPECT_TRUE(accepted);

  EXPECT_FALSE(host.stopped_);
  ASSERT_TRUE(client.finish(2, &error)) << error;
  const TakeoverOutcome result = outcome.get();
  EXPECT_TRUE(result.handed_over) << result.text;
  EXPECT_EQ(result.new_pid, getpid());
  EXPECT_TRUE(host.stopped_);
}

TEST_F(TakeoverTest, PortZeroTakesWhateverPortTheOldProcessHas) {
  FakeHost host(1);
  auto outcome = serve(host);
  TakeoverClient client(kTimeouts);
  std::string error;
  ASSERT_TRUE(client.receive(std::move(new_side_), *SocketAddress::parse("127.0.0.1", 0), &error))
      << error;
  EXPECT_EQ(client.address().port(), host.address_.port());
  ASSERT_TRUE(client.finish(1, &error)) << error;
  EXPECT_TRUE(outcome.get().handed_over);
}

TEST_F(TakeoverTest, RefusalKeepsTheOldProcessServing) {
  FakeHost host(2);
  host.refuseWith("draining: a shutdown is in progress");
  auto outcome = serve(host);
  TakeoverClient client(kTimeouts);
  std::string error;
  EXPECT_FALSE(client.receive(std::move(new_side_), host.address_, &error));
  EXPECT_EQ(client.failure(), TakeoverFailure::kRefused);
  EXPECT_NE(error.find("draining"), std::string::npos) << error;
  EXPECT_TRUE(client.takeListeners().empty());
  EXPECT_FALSE(outcome.get().handed_over);
  EXPECT_FALSE(host.stopped_);
}

TEST_F(TakeoverTest, AddressMismatchAbortsAndTheOldProcessKeepsServing) {
  FakeHost host(2);
  auto outcome = serve(host);
  TakeoverClient client(kTimeouts);
  std::string error;
  SocketAddress other = host.address_;
  other.setPort(host.address_.port() == 65535 ? 1 : host.address_.port() + 1);
  const int before = openFdCount();
  EXPECT_FALSE(client.receive(std::move(new_side_), other, &error));
  EXPECT_EQ(client.failure(), TakeoverFailure::kMismatch);
  EXPECT_NE(error.find("address mismatch"), std::string::npos) << error;
  EXPECT_TRUE(client.takeListeners().empty());
  const TakeoverOutcome result = outcome.get();
  // Every received listener closed again (and the old side's duplicates, and the channel).
  EXPECT_LT(openFdCount(), before);
  EXPECT_FALSE(result.handed_over);
  EXPECT_NE(result.text.find("aborted by the new process: address mismatch"), std::string::npos)
      << "outcome: " << result.text;
  EXPECT_FALSE(host.stopped_);
}

TEST_F(TakeoverTest, AnotherAddressFamilyIsAMismatch) {
  FakeHost host(1);
  auto outcome = serve(host);
  TakeoverClient client(kTimeouts);
  std::string error;
  EXPECT_FALSE(client.receive(std::move(new_side_), *SocketAddress::parse("::1", 0), &error));
  EXPECT_EQ(client.failure(), TakeoverFailure::kMismatch);
  EXPECT_FALSE(outcome.get().handed_over);
}

TEST_F(TakeoverTest, OldProcessRefusesANewerProtocolVersion) {
  FakeHost host(1);
  auto outcome = serve(host);
  sendRaw(new_side_.get(), "reactord-takeover/2 hello pid=42 features=x");
  const std::string reply = receiveRaw(new_side_.get());
  EXPECT_EQ(reply.rfind("reactord-takeover/1 refused reason=", 0), 0u) << reply;
  EXPECT_NE(reply.find("protocol version 2"), std::string::npos) << reply;
  EXPECT_FALSE(outcome.get().handed_over);
}

TEST_F(TakeoverTest, NewProcessReportsAnOlderProtocolVersion) {
  auto old_side = std::async(std::launch::async, [this] {
    receiveRaw(old_side_.get());
    sendRaw(old_side_.get(), "reactord-takeover/0 offer pid=1 listeners=1 address=0.0.0.0:1");
  });
  TakeoverClient client(kTimeouts);
  std::string error;
  EXPECT_FALSE(client.receive(std::move(new_side_), *SocketAddress::parse("0.0.0.0", 1), &error));
  EXPECT_EQ(client.failure(), TakeoverFailure::kVersion);
  EXPECT_NE(error.find("protocol version 0"), std::string::npos) << error;
  old_side.get();
}

TEST_F(TakeoverTest, GarbageFromTheOldProcessIsAProtocolError) {
  auto old_side = std::async(std::launch::async, [this] {
    receiveRaw(old_side_.get());
    sendRaw(old_side_.get(), "HTTP/1.1 200 OK");
  });
  TakeoverClient client(kTimeouts);
  std::string error;
  EXPECT_FALSE(client.receive(std::move(new_side_), *SocketAddress::parse("0.0.0.0", 1), &error));
  EXPECT_EQ(client.failure(), TakeoverFailure::kProtocol);
  old_side.get();
}

TEST_F(TakeoverTest, GarbageFromTheNewProcessIsRefused) {
  FakeHost host(1);
  auto outcome = serve(host);
  sendRaw(new_side_.get(), std::string("\x00\x01garbage", 9));
  EXPECT_NE(receiveRaw(new_side_.get()).find("refused reason=malformed message"),
            std::string::npos);
  EXPECT_FALSE(outcome.get().handed_over);
}

TEST_F(TakeoverTest, ListenerMessageWithTooManyDescriptorsClosesThemAll) {
  FakeHost host(1);
  auto old_side = std::async(std::launch::async, [&] {
    receiveRaw(old_side_.get());
    const std::string address = host.address_.toString();
    sendRaw(old_side_.get(), "reactord-takeover/1 offer pid=1 listeners=1 address=" + address);
    const int fd = host.fds_[0].get();
    sendRaw(old_side_.get(), "reactord-takeover/1 listener index=0 address=" + address,
            {fd, fd, fd});
    return receiveRaw(old_side_.get());
  });
  TakeoverClient client(kTimeouts);
  std::string error;
  const int before = openFdCount();  // the channel's end, which receive() closes
  EXPECT_FALSE(client.receive(std::move(new_side_), host.address_, &error));
  EXPECT_EQ(client.failure(), TakeoverFailure::kProtocol);
  EXPECT_EQ(old_side.get().rfind("reactord-takeover/1 abort reason=", 0), 0u);
  EXPECT_EQ(openFdCount(), before - 1);  // none of the three received copies is left open
}

TEST_F(TakeoverTest, ANonListeningSocketIsRefused) {
  auto old_side = std::async(std::launch::async, [this] {
    receiveRaw(old_side_.get());
    UniqueFd bound(socket(AF_INET, SOCK_STREAM, 0));
    const SocketAddress any = *SocketAddress::parse("127.0.0.1", 0);
    EXPECT_EQ(bind(bound.get(), any.get(), any.length()), 0);
    const std::string address = SocketAddress::localOf(bound.get())->toString();
    sendRaw(old_side_.get(), "reactord-takeover/1 offer pid=1 listeners=1 address=" + address);
    sendRaw(old_side_.get(), "reactord-takeover/1 listener index=0 address=" + address,
            {bound.get()});
    receiveRaw(old_side_.get());
  });
  TakeoverClient client(kTimeouts);
  std::string error;
  EXPECT_FALSE(client.receive(std::move(new_side_), *SocketAddress::parse("127.0.0.1", 0), &error));
  EXPECT_EQ(client.failure(), TakeoverFailure::kMismatch);
  EXPECT_NE(error.find("is not listening"), std::string::npos) << error;
  old_side.get();
}

TEST_F(TakeoverTest, SilentOldProcessTimesOut) {
  TakeoverClient client(kTimeouts);
  std::string error;
  const auto started = std::chrono::steady_clock::now();
  EXPECT_FALSE(client.receive(std::move(new_side_), *SocketAddress::parse("0.0.0.0", 1), &error));
  EXPECT_EQ(client.failure(), TakeoverFailure::kTimeout);
  EXPECT_LT(std::chrono::steady_clock::now() - started, milliseconds(10000));
}

TEST_F(TakeoverTest, NewProcessThatNeverSaysReadyLeavesTheOldOneServing) {
  FakeHost host(2);
  auto outcome = serve(host);
  TakeoverClient client(kTimeouts);
  std::string error;
  ASSERT_TRUE(client.receive(std::move(new_side_), host.address_, &error)) << error;
  const TakeoverOutcome result = outcome.get();  // after the ready timeout
  EXPECT_FALSE(result.handed_over);
  EXPECT_NE(result.text.find("still serving"), std::string::npos) << result.text;
  EXPECT_FALSE(host.stopped_);
}

TEST_F(TakeoverTest, NewProcessThatDiesBeforeReadyLeavesTheOldOneServing) {
  FakeHost host(2);
  auto outcome = serve(host);
  {
    TakeoverClient client(kTimeouts);
    std::string error;
    ASSERT_TRUE(client.receive(std::move(new_side_), host.address_, &error)) << error;
  }  // the channel closes with the client
  EXPECT_FALSE(outcome.get().handed_over);
  EXPECT_FALSE(host.stopped_);
}

TEST(TakeoverConnect, MissingControlSocketIsUnreachable) {
  TakeoverClient client(kTimeouts);
  std::string error;
  EXPECT_FALSE(client.connectAndReceive("/nonexistent-dir/reactord.control",
                                        *SocketAddress::parse("0.0.0.0", 1), &error));
  EXPECT_EQ(client.failure(), TakeoverFailure::kUnreachable);
  EXPECT_NE(error.find("old process not reachable"), std::string::npos) << error;
}

TEST(TakeoverConnect, SocketWithNobodyListeningIsUnreachable) {
  char dir[] = "/tmp/reactord-takeover-test-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string path = std::string(dir) + "/control";
  {
    common::UnixListenResult bound = common::listenUnixSeqpacket(path, 0600, 1);
    ASSERT_TRUE(bound.fd.valid()) << bound.text;
  }  // closed: the file stays, nobody listens
  TakeoverClient client(kTimeouts);
  std::string error;
  EXPECT_FALSE(client.connectAndReceive(path, *SocketAddress::parse("0.0.0.0", 1), &error));
  EXPECT_EQ(client.failure(), TakeoverFailure::kUnreachable);
  EXPECT_NE(error.find("no process listens there"), std::string::npos) << error;
  unlink(path.c_str());
  rmdir(dir);
}

}  // namespace
}  // namespace reactord::server
