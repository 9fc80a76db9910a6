#include "common/fd_message.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "common/unix_socket.h"
#include "tests/support/open_fds.h"

namespace reactord::common {
namespace {

using std::chrono::milliseconds;

using testing::openFdCount;

class FdMessageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(seqpacketPair(&a_, &b_));
    ASSERT_EQ(pipe(pipe_), 0);
  }
  void TearDown() override {
    close(pipe_[0]);
    close(pipe_[1]);
  }
  // Sends raw bytes with `fds` from a_, bypassing sendFdMessage's limits.
  void sendRaw(const std::string& bytes, const std::vector<int>& fds) {
    iovec vector{const_cast<char*>(bytes.data()), bytes.size()};
    std::vector<unsigned char> control(CMSG_SPACE(sizeof(int) * fds.size()));
    msghdr header{};
    header.msg_iov = &vector;
    header.msg_iovlen = 1;
    if (!fds.empty()) {
      header.msg_control = control.data();
      header.msg_controllen = control.size();
      cmsghdr* c = CMSG_FIRSTHDR(&header);
      c->cmsg_level = SOL_SOCKET;
      c->cmsg_type = SCM_RIGHTS;
      c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
      memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
    }
    ASSERT_EQ(sendmsg(a_.get(), &header, 0), static_cast<ssize_t>(bytes.size()));
  }
  ReceiveResult receive(size_t max_bytes, size_t max_fds,
                        milliseconds timeout = milliseconds(2000)) {
    return receiveFdMessage(b_.get(), max_bytes, max_fds, deadlineIn(timeout));
  }

  UniqueFd a_, b_;
  int pipe_[2];
};

TEST_F(FdMessageTest, BytesAndDescriptorsArriveTogether) {
  std::string error;
  const int fds[] = {pipe_[1]};
  ASSERT_TRUE(sendFdMessage(a_.get(), "hello", fds, deadlineIn(milliseconds(1000)), &error))
      << error;
  ReceiveResult got = receive(64, 4);
  ASSERT_EQ(got.status, ReceiveStatus::kOk) << got.error;
  EXPECT_EQ(got.message.bytes, "hello");
  ASSERT_EQ(got.message.fds.size(), 1u);
  // The received descriptor is the same pipe: a byte written through it comes out of pipe_[0].
  ASSERT_EQ(write(got.message.fds[0].get(), "x", 1), 1);
  char byte = 0;
  ASSERT_EQ(read(pipe_[0], &byte, 1), 1);
  EXPECT_EQ(byte, 'x');
}

TEST_F(FdMessageTest, MessageBoundariesAreKept) {
  std::string error;
  ASSERT_TRUE(sendFdMessage(a_.get(), "one", {}, deadlineIn(milliseconds(1000)), &error));
  ASSERT_TRUE(sendFdMessage(a_.get(), "two", {}, deadlineIn(milliseconds(1000)), &error));
  EXPECT_EQ(receive(64, 0).message.bytes, "one");
  EXPECT_EQ(receive(64, 0).message.bytes, "two");
}

TEST_F(FdMessageTest, TooLongMessageIsTruncatedAndItsDescriptorsClosed) {
  const int before = openFdCount();
  sendRaw(std::string(100, 'a'), {pipe_[1], pipe_[1]});
  ReceiveResult got = receive(10, 4);
  EXPECT_EQ(got.status, ReceiveStatus::kTruncated) << got.error;
  EXPECT_TRUE(got.message.fds.empty());
  EXPECT_EQ(openFdCount(), before);
}

TEST_F(FdMessageTest, MessageOfExactlyTheLimitIsAccepted) {
  sendRaw(std::string(10, 'a'), {});
  EXPECT_EQ(receive(10, 0).status, ReceiveStatus::kOk);
}

TEST_F(FdMessageTest, MoreDescriptorsThanAllowedAreAllClosed) {
  const int before = openFdCount();
  sendRaw("x", {pipe_[1], pipe_[1], pipe_[1]});  // max 1: room for 2, so the count check fires
  ReceiveResult got = receive(64, 1);
  EXPECT_EQ(got.status, ReceiveStatus::kTooManyFds) << got.error;
  EXPECT_EQ(openFdCount(), before);
}

TEST_F(FdMessageTest, ControlDataBeyondTheBufferIsCaughtAsTruncated) {
  const int before = openFdCount();
  std::vector<int> many(40, pipe_[1]);  // far more than the buffer of max_fds + 1 holds
  sendRaw("x", many);
  ReceiveResult got = receive(64, 1);
  EXPECT_EQ(got.status, ReceiveStatus::kTooManyFds) << got.error;
  EXPECT_EQ(openFdCount(), before);
}

TEST_F(FdMessageTest, DescriptorsWhereNoneAreExpectedAreRefused) {
  const int before = openFdCount();
  sendRaw("x", {pipe_[1]});
  EXPECT_EQ(receive(64, 0).status, ReceiveStatus::kTooManyFds);
  EXPECT_EQ(openFdCount(), before);
}

TEST_F(FdMessageTest, CredentialsInsteadOfRightsAreRefused) {
  const int one = 1;
  ASSERT_EQ(setsockopt(b_.get(), SOL_SOCKET, SO_PASSCRED, &one, sizeof one), 0);
  sendRaw("x", {});  // the kernel attaches SCM_CREDENTIALS (room for 8 fds holds it)
  EXPECT_EQ(receive(64, 8).status, ReceiveStatus::kBadControl);
}

TEST_F(FdMessageTest, SilentPeerTimesOut) {
  const auto started = std::chrono::steady_clock::now();
  ReceiveResult got = receive(64, 0, milliseconds(100));
  EXPECT_EQ(got.status, ReceiveStatus::kTimeout);
  EXPECT_GE(std::chrono::steady_clock::now() - started, milliseconds(100));
}

TEST_F(FdMessageTest, ClosedPeerIsReported) {
  a_.reset();
  EXPECT_EQ(receive(64, 0).status, ReceiveStatus::kClosed);
  std::string error;
  EXPECT_FALSE(sendFdMessage(b_.get(), "x", {}, deadlineIn(milliseconds(100)), &error));
}

TEST_F(FdMessageTest, LastWordsOfAPeerThatClosedWithUnreadMessagesArrive) {
  std::string error;
  ASSERT_TRUE(sendFdMessage(b_.get(), "unread", {}, deadlineIn(milliseconds(1000)), &error));
  ASSERT_TRUE(sendFdMessage(a_.get(), "goodbye", {}, deadlineIn(milliseconds(1000)), &error));
  a_.reset();  // closes with "unread" in its queue: b_ gets ECONNRESET first
  ReceiveResult got = receive(64, 0);
  ASSERT_EQ(got.status, ReceiveStatus::kOk) << got.error;
  EXPECT_EQ(got.message.bytes, "goodbye");
  EXPECT_EQ(receive(64, 0).status, ReceiveStatus::kClosed);
}

TEST_F(FdMessageTest, SendToAFullChannelTimesOut) {
  std::string error;
  int sent = 0;
  while (
      sendFdMessage(a_.get(), std::string(4096, 'a'), {}, deadlineIn(milliseconds(50)), &error)) {
    ASSERT_LT(++sent, 100000) << "the channel never filled";
  }
  EXPECT_NE(error.find("waiting to send"), std::string::npos) << error;
}

TEST_F(FdMessageTest, EmptyMessagesAreNotSent) {
  std::string error;
  EXPECT_FALSE(sendFdMessage(a_.get(), "", {}, deadlineIn(milliseconds(100)), &error));
}

}  // namespace
}  // namespace reactord::common
