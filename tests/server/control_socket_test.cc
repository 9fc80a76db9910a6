#include "server/control_socket.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "common/unix_socket.h"
#include "tests/support/temp_dir.h"

namespace reactord::server {
namespace {

using std::chrono::milliseconds;

class ControlSocketTest : public ::testing::Test {
 protected:
  std::unique_ptr<ControlSocket> create(ControlSocket::Publish how, std::string* error) {
    std::unique_ptr<ControlSocket> socket = ControlSocket::prepare(path_, error);
    if (socket == nullptr || !socket->publish(how, error)) {
      return nullptr;
    }
    return socket;
  }
  // True when a connect to the path reaches `socket` (its listener has a pending connection).
  bool reaches(const ControlSocket& socket) {
    common::UnixConnectResult connected =
        common::connectUnixSeqpacket(path_, common::deadlineIn(milliseconds(1000)));
    if (!connected.fd.valid()) {
      return false;
    }
    pollfd entry{socket.fd(), POLLIN, 0};
    return poll(&entry, 1, 2000) == 1 && common::acceptUnix(socket.fd()).valid();
  }
  bool exists(const std::string& path) {
    struct stat info {};
    return lstat(path.c_str(), &info) == 0;
  }

  testing::TempDir temp_{"reactord-control-test"};
  const std::string dir_ = temp_.path();
  std::string path_ = temp_.file("control");
};

TEST_F(ControlSocketTest, IsOwnerOnlyReachableAndRemovedAtExit) {
  std::string error;
  auto socket = create(ControlSocket::Publish::kCreate, &error);
  ASSERT_NE(socket, nullptr) << error;
  struct stat info {};
  ASSERT_EQ(lstat(path_.c_str(), &info), 0);
  EXPECT_TRUE(S_ISSOCK(info.st_mode));
  EXPECT_EQ(info.st_mode & 07777, 0600u);
  EXPECT_EQ(info.st_uid, geteuid());
  EXPECT_TRUE(reaches(*socket));
  EXPECT_FALSE(exists(path_ + ".new." + std::to_string(getpid())));  // no private name left
  socket.reset();
  EXPECT_FALSE(exists(path_));
}

TEST_F(ControlSocketTest, IsOwnerOnlyWhateverTheUmask) {
  const mode_t old_mask = umask(0);
  std::string error;
  auto socket = create(ControlSocket::Publish::kCreate, &error);
  umask(old_mask);
  ASSERT_NE(socket, nullptr) << error;
  struct stat info {};
  ASSERT_EQ(lstat(path_.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 07777, 0600u);
}

TEST_F(ControlSocketTest, LiveSocketIsRefused) {
  std::string error;
  auto first = create(ControlSocket::Publish::kCreate, &error);
  ASSERT_NE(first, nullptr) << error;
  EXPECT_EQ(create(ControlSocket::Publish::kCreate, &error), nullptr);
  EXPECT_NE(error.find("belongs to a running process"), std::string::npos) << error;
  EXPECT_NE(error.find("--takeover_from=" + path_), std::string::npos) << error;
  EXPECT_TRUE(reaches(*first));  // untouched
}

TEST_F(ControlSocketTest, StaleSocketOfADeadProcessIsReplaced) {
  {
    common::UnixListenResult bound = common::listenUnixSeqpacket(path_, 0600, 1);
    ASSERT_TRUE(bound.fd.valid()) << bound.text;
  }  // its process "died": the file stays, nobody listens
  ASSERT_TRUE(exists(path_));
  std::string error;
  auto socket = create(ControlSocket::Publish::kCreate, &error);
  ASSERT_NE(socket, nullptr) << error;
  EXPECT_TRUE(reaches(*socket));
}

TEST_F(ControlSocketTest, RegularFileIsNeverReplaced) {
  std::ofstream(path_) << "precious";
  std::string error;
  EXPECT_EQ(ControlSocket::prepare(path_, &error), nullptr);
  EXPECT_NE(error.find("is not a socket"), std::string::npos) << error;
  std::ifstream in(path_);
  std::string content;
  in >> content;
  EXPECT_EQ(content, "precious");
}

TEST_F(ControlSocketTest, SymbolicLinkIsNeverFollowed) {
  const std::string target = dir_ + "/target";
  ASSERT_EQ(symlink(target.c_str(), path_.c_str()), 0);
  std::string error;
  EXPECT_EQ(ControlSocket::prepare(path_, &error), nullptr);
  EXPECT_NE(error.find("symbolic link"), std::string::npos) << error;
  EXPECT_FALSE(exists(target));
}

TEST_F(ControlSocketTest, MissingDirectoryIsAClearError) {
  path_ = dir_ + "/missing/control";
  std::string error;
  EXPECT_EQ(ControlSocket::prepare(path_, &error), nullptr);
  EXPECT_NE(error.find("No such file or directory"), std::string::npos) << error;
  path_ = dir_ + "/control";
}

TEST_F(ControlSocketTest, TooLongPathIsRefused) {
  const std::string saved = path_;
  path_ = dir_ + "/" + std::string(120, 'c');
  std::string error;
  EXPECT_EQ(ControlSocket::prepare(path_, &error), nullptr);
  EXPECT_NE(error.find("too long"), std::string::npos) << error;
  path_ = saved;
}

TEST_F(ControlSocketTest, ReplaceMovesThePathToTheNewSocketAtOnce) {
  std::string error;
  auto old_socket = create(ControlSocket::Publish::kCreate, &error);
  ASSERT_NE(old_socket, nullptr) << error;
  auto new_socket = ControlSocket::prepare(path_, &error);
  ASSERT_NE(new_socket, nullptr) << error;
  EXPECT_TRUE(reaches(*old_socket));  // prepared, not yet published
  ASSERT_TRUE(new_socket->publish(ControlSocket::Publish::kReplace, &error)) << error;
  EXPECT_TRUE(reaches(*new_socket));
  old_socket.reset();  // the old process exits: the path is no longer its own
  EXPECT_TRUE(exists(path_));
  EXPECT_TRUE(reaches(*new_socket));
  new_socket.reset();
  EXPECT_FALSE(exists(path_));
}

TEST_F(ControlSocketTest, UnpublishedSocketLeavesNothingBehind) {
  std::string error;
  auto socket = ControlSocket::prepare(path_, &error);
  ASSERT_NE(socket, nullptr) << error;
  socket.reset();
  EXPECT_FALSE(exists(path_));
  EXPECT_FALSE(exists(path_ + ".new." + std::to_string(getpid())));
}

}  // namespace
}  // namespace reactord::server
