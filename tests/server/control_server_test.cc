#include "server/control_server.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <functional>
#include <future>
#include <thread>

#include "server/control_socket.h"
#include "tests/server/fake_takeover_host.h"
#include "tests/support/temp_dir.h"

namespace reactord::server {
namespace {

using common::SocketAddress;
using common::UniqueFd;
using std::chrono::milliseconds;

constexpr TakeoverTimeouts kTimeouts{milliseconds(2000), milliseconds(3000)};

// The session thread counts a takeover after the new process got `done`: wait for it.
bool eventually(const std::function<bool()>& condition) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) {
      return false;
    }
    std::this_thread::sleep_for(milliseconds(5));
  }
  return true;
}

class ControlServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    socket_ = ControlSocket::prepare(path_, &error);
    ASSERT_NE(socket_, nullptr) << error;
    ASSERT_TRUE(socket_->publish(ControlSocket::Publish::kCreate, &error)) << error;
    server_ = std::make_unique<ControlServer>(
        socket_->fd(), host_, [this](const TakeoverOutcome& outcome) { handovers_.fetch_add(1); },
        kTimeouts);
    ASSERT_TRUE(server_->start(&error)) << error;
  }
  void TearDown() override {
    server_.reset();
    socket_.reset();
  }
  // A whole takeover as the new process does it.
  bool takeOver(TakeoverClient& client, std::string* error) {
    return client.connectAndReceive(path_, host_.address_, error) && client.finish(1, error);
  }

  testing::TempDir dir_{"reactord-control-server-test"};
  const std::string path_ = dir_.file("control");
  FakeTakeoverHost host_{1};
  std::atomic<int> handovers_{0};
  std::unique_ptr<ControlSocket> socket_;
  std::unique_ptr<ControlServer> server_;
};

TEST_F(ControlServerTest, ServesOneTakeoverThenRefusesEveryOther) {
  TakeoverClient first(kTimeouts);
  std::string error;
  ASSERT_TRUE(takeOver(first, &error)) << error;
  EXPECT_TRUE(host_.stopped_);
  EXPECT_TRUE(eventually([&] { return server_->takeoversServed() == 1 && handovers_ == 1; }));

  TakeoverClient second(kTimeouts);
  EXPECT_FALSE(second.connectAndReceive(path_, host_.address_, &error));
  EXPECT_EQ(second.failure(), TakeoverFailure::kRefused);
  EXPECT_NE(error.find("already handed its listeners over to pid " + std::to_string(getpid())),
            std::string::npos)
      << error;
  EXPECT_EQ(server_->takeoversServed(), 1u);
}

TEST_F(ControlServerTest, SecondTakeoverDuringOneIsRefusedAtOnce) {
  TakeoverClient first(kTimeouts);
  std::string error;
  ASSERT_TRUE(first.connectAndReceive(path_, host_.address_, &error)) << error;
  // The first holds the listeners and has not said ready yet.
  TakeoverClient second(kTimeouts);
  const auto started = std::chrono::steady_clock::now();
  EXPECT_FALSE(second.connectAndReceive(path_, host_.address_, &error));
  EXPECT_EQ(second.failure(), TakeoverFailure::kRefused);
  EXPECT_NE(error.find("in progress"), std::string::npos) << error;
  // Refused without waiting for the first one's steps (bounded well below them).
  EXPECT_LT(std::chrono::steady_clock::now() - started, kTimeouts.step);
  ASSERT_TRUE(first.finish(1, &error)) << error;
  EXPECT_TRUE(eventually([&] { return server_->takeoversServed() == 1; }));
}

TEST_F(ControlServerTest, TakeoverDuringADrainIsRefusedAndChangesNothing) {
  host_.refuseWith("draining: a shutdown is in progress");
  TakeoverClient client(kTimeouts);
  std::string error;
  EXPECT_FALSE(client.connectAndReceive(path_, host_.address_, &error));
  EXPECT_EQ(client.failure(), TakeoverFailure::kRefused);
  EXPECT_NE(error.find("draining"), std::string::npos) << error;
  EXPECT_FALSE(host_.stopped_);
  EXPECT_EQ(server_->takeoversServed(), 0u);
  EXPECT_EQ(handovers_.load(), 0);
}

TEST_F(ControlServerTest, AbortedTakeoverLeavesItReadyForTheNextOne) {
  TakeoverClient mismatched(kTimeouts);
  std::string error;
  SocketAddress other = *SocketAddress::parse("127.0.0.2", 0);
  EXPECT_FALSE(mismatched.connectAndReceive(path_, other, &error));
  EXPECT_EQ(mismatched.failure(), TakeoverFailure::kMismatch);
  EXPECT_FALSE(host_.stopped_);
  // The session ends asynchronously; the next takeover may find it still running: retry.
  TakeoverClient next(kTimeouts);
  bool done = false;
  for (int attempt = 0; attempt < 100 && !done; ++attempt) {
    TakeoverClient client(kTimeouts);
    done = takeOver(client, &error);
    if (!done) {
      ASSERT_NE(error.find("in progress"), std::string::npos) << error;
      std::this_thread::sleep_for(milliseconds(20));
    }
  }
  EXPECT_TRUE(done) << error;
}

// Connects as `uid` from a child process and sends a hello; the child's exit code says what it
// got: 10 connect refused by permissions, 11 refused by the server for its uid, 12 anything else.
// Only system calls in the child (the parent has threads).
int connectAs(const std::string& path, uid_t uid) {
  const pid_t child = fork();
  if (child == 0) {
    if (setgid(uid) != 0 || setuid(uid) != 0) {
      _exit(13);
    }
    const int fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    memcpy(address.sun_path, path.c_str(), path.size());
    if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
      _exit(errno == EACCES ? 10 : 12);
    }
    const char hello[] = "reactord-takeover/1 hello pid=1";
    (void)send(fd, hello, sizeof hello - 1, MSG_NOSIGNAL);  // the refusal may come first
    char reply[600] = {};
    ssize_t n = recv(fd, reply, sizeof reply - 1, 0);
    if (n < 0 && errno == ECONNRESET) {  // closed with our hello unread: the refusal is queued
      n = recv(fd, reply, sizeof reply - 1, 0);
    }
    _exit(n > 0 && strstr(reply, "refused reason=permission denied: uid") != nullptr ? 11 : 12);
  }
  int status = 0;
  waitpid(child, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST_F(ControlServerTest, OtherUsersAreKeptOutByTheModeAndByTheirUid) {
  if (geteuid() != 0) {
    GTEST_SKIP() << "needs root to act as another user";
  }
  ASSERT_EQ(chmod(dir_.path().c_str(), 0711), 0);  // the directory lets others reach the socket
  EXPECT_EQ(connectAs(path_, 65534), 10);          // mode 0600: connect() itself is refused
  ASSERT_EQ(chmod(path_.c_str(), 0666), 0);        // someone loosened the mode: the uid check holds
  EXPECT_EQ(connectAs(path_, 65534), 11);
  EXPECT_FALSE(host_.stopped_);
  EXPECT_EQ(server_->takeoversServed(), 0u);
  EXPECT_TRUE(eventually([&] { return server_->takeoversRefused() == 1; }));
}

}  // namespace
}  // namespace reactord::server
