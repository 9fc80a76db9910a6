// The status file line that reactord writes for health checkers, and the atomic file write.
#include "common/server_status.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "common/file_io.h"
#include "tests/support/temp_dir.h"

namespace reactord::common {
namespace {

std::optional<ServerStatus> parse(const std::string& text, std::string* error = nullptr) {
  std::string ignored;
  return ServerStatus::parse(text, error != nullptr ? error : &ignored);
}

TEST(ServerStatusTest, FormatsTheDocumentedLineAndParsesItBack) {
  ServerStatus status;
  status.address = *SocketAddress::parse("127.0.0.1", 7100);
  status.protocol = "ack";
  status.oneshot = false;
  status.pid = 123;
  EXPECT_EQ(status.format(),
            "address=127.0.0.1:7100 protocol=ack oneshot=0 proxy_protocol=0 pid=123\n");
  const auto back = parse(status.format());
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->address.toString(), "127.0.0.1:7100");
  EXPECT_EQ(back->protocol, "ack");
  EXPECT_FALSE(back->oneshot);
  EXPECT_EQ(back->pid, 123);

  status.address = *SocketAddress::parse("::1", 80);
  status.protocol = "echo";
  status.oneshot = true;
  EXPECT_EQ(status.format(), "address=[::1]:80 protocol=echo oneshot=1 proxy_protocol=0 pid=123\n");
  const auto v6 = parse(status.format());
  ASSERT_TRUE(v6.has_value());
  EXPECT_EQ(v6->address.toString(), "[::1]:80");
  EXPECT_TRUE(v6->oneshot);
  EXPECT_FALSE(v6->proxy_protocol);

  status.proxy_protocol = true;
  EXPECT_EQ(status.format(), "address=[::1]:80 protocol=echo oneshot=1 proxy_protocol=1 pid=123\n");
  EXPECT_TRUE(parse(status.format())->proxy_protocol);
}

TEST(ServerStatusTest, KeysMayComeInAnyOrderAndUnknownOnesAreIgnored) {
  // A later version adds keys; an older checker still reads the ones it knows.
  const auto status = parse("proxy=v2 protocol=echo address=10.1.2.3:7000 future=x\n");
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(status->address.toString(), "10.1.2.3:7000");
  EXPECT_EQ(status->protocol, "echo");
  EXPECT_FALSE(status->oneshot);
  EXPECT_EQ(status->pid, 0);
}

TEST(ServerStatusTest, RejectsMalformedLinesSayingWhy) {
  const std::pair<const char*, const char*> cases[] = {
      {"", "empty"},
      {"address=127.0.0.1:7000 protocol=echo", "newline"},  // cut short
      {"address=127.0.0.1:7000 protocol=echo\nmore\n", "newline"},
      {"address=127.0.0.1:7000 protocol=echo junk\n", "'junk' is not key=value"},
      {"address=127.0.0.1:7000 =echo\n", "'=echo' is not key=value"},
      {"address=127.0.0.1:7000  protocol=echo\n", "'' is not key=value"},
      {"address=127.0.0.1:7000 protocol=echo protocol=ack\n", "'protocol' appears twice"},
      {"protocol=echo pid=1\n", "address and protocol are required"},
      {"address=127.0.0.1:7000\n", "address and protocol are required"},
      {"address=localhost:7000 protocol=echo\n", "not a non-wildcard IP:PORT"},
      {"address=127.0.0.1 protocol=echo\n", "not a non-wildcard IP:PORT"},
      {"address=127.0.0.1:0 protocol=echo\n", "not a non-wildcard IP:PORT"},
      {"address=127.0.0.1:65536 protocol=echo\n", "not a non-wildcard IP:PORT"},
      {"address=127.0.0.1:7x protocol=echo\n", "not a non-wildcard IP:PORT"},
      {"address=::1:7000 protocol=echo\n", "not a non-wildcard IP:PORT"},
      {"address=0.0.0.0:7000 protocol=echo\n", "not a non-wildcard IP:PORT"},
      {"address=[::]:7000 protocol=echo\n", "not a non-wildcard IP:PORT"},
      {"address=127.0.0.1:7000 protocol=http\n", "neither echo nor ack"},
      {"address=127.0.0.1:7000 protocol=echo oneshot=yes\n", "oneshot=yes is neither 0 nor 1"},
      {"address=127.0.0.1:7000 protocol=echo proxy_protocol=2\n", "proxy_protocol=2 is neither"},
      {"address=127.0.0.1:7000 protocol=echo pid=-4\n", "not a process id"},
      {"address=127.0.0.1:7000 protocol=echo pid=12ab\n", "not a process id"},
  };
  for (const auto& [text, why] : cases) {
    std::string error;
    EXPECT_FALSE(parse(text, &error).has_value()) << text;
    EXPECT_NE(error.find(why), std::string::npos) << text << " -> " << error;
  }
}

TEST(ServerStatusTest, WildcardBindsAreProbedOnIpv4Loopback) {
  EXPECT_EQ(ServerStatus::probeAddressFor(*SocketAddress::parse("0.0.0.0", 7000)).toString(),
            "127.0.0.1:7000");
  // "::" is dual-stack (IPV6_V6ONLY off), and ::1 is gone where a container has IPv6 disabled.
  EXPECT_EQ(ServerStatus::probeAddressFor(*SocketAddress::parse("::", 7100)).toString(),
            "127.0.0.1:7100");
  EXPECT_EQ(ServerStatus::probeAddressFor(*SocketAddress::parse("10.0.0.5", 7000)).toString(),
            "10.0.0.5:7000");
  EXPECT_EQ(ServerStatus::probeAddressFor(*SocketAddress::parse("::1", 7000)).toString(),
            "[::1]:7000");
}

class FileIoTest : public ::testing::Test {
 protected:
  reactord::testing::TempDir temp_{"reactord-file-io"};
  const std::string dir_ = temp_.path();
};

TEST_F(FileIoTest, WritesAtomicallyAndReadsBack) {
  const std::string path = dir_ + "/status";
  std::string error;
  ASSERT_TRUE(writeFileAtomically(path, "first\n", &error)) << error;
  ASSERT_TRUE(writeFileAtomically(path, "second line\n", &error)) << error;
  EXPECT_EQ(readSmallFile(path, 100, &error), "second line\n");
  EXPECT_NE(access((path + ".tmp").c_str(), F_OK), 0) << "the temporary file stays behind";
  struct stat info {};
  ASSERT_EQ(stat(path.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0444, 0444) << "a checker running as another user must read it";
}

TEST_F(FileIoTest, FailuresNameThePathAndTheReason) {
  std::string error;
  EXPECT_FALSE(writeFileAtomically(dir_ + "/no/such/dir/status", "x\n", &error));
  EXPECT_NE(error.find(dir_ + "/no/such/dir/status.tmp"), std::string::npos) << error;
  EXPECT_NE(error.find("No such file or directory"), std::string::npos) << error;

  // The target is a non-empty directory: the rename fails and the temporary file goes.
  ASSERT_EQ(mkdir((dir_ + "/taken").c_str(), 0755), 0);
  ASSERT_EQ(mkdir((dir_ + "/taken/inside").c_str(), 0755), 0);
  EXPECT_FALSE(writeFileAtomically(dir_ + "/taken", "x\n", &error));
  EXPECT_NE(error.find("rename"), std::string::npos) << error;
  EXPECT_NE(access((dir_ + "/taken.tmp").c_str(), F_OK), 0);

  EXPECT_FALSE(readSmallFile(dir_ + "/missing", 100, &error).has_value());
  EXPECT_NE(error.find(dir_ + "/missing: No such file or directory"), std::string::npos) << error;
  ASSERT_TRUE(writeFileAtomically(dir_ + "/big", std::string(200, 'x'), &error));
  EXPECT_FALSE(readSmallFile(dir_ + "/big", 100, &error).has_value());
  EXPECT_NE(error.find("longer than 100 bytes"), std::string::npos) << error;
}

}  // namespace
}  // namespace reactord::common
