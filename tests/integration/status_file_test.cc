// --status_file: the line a health checker in the same container reads, written once the
// listeners are open and removed at exit; a path that cannot be written fails the start.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

#include "tests/support/server_process.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_client.h"

namespace reactord::testing {
namespace {

class StatusFileTest : public ::testing::Test {
 protected:
  std::string contents() const {
    std::ifstream in(path_);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }
  bool exists() const { return access(path_.c_str(), F_OK) == 0; }

  TempDir dir_{"reactord-status"};
  const std::string path_ = dir_.file("reactord.status");
};

TEST_F(StatusFileTest, WildcardBindIsWrittenAsLoopbackAndTheFileGoesAtExit) {
  ServerProcess server(
      {"--bind=0.0.0.0", "--workers=2", "--protocol=ack", "--status_file=" + path_});
  ASSERT_TRUE(exists()) << server.log();
  EXPECT_EQ(contents(), "address=127.0.0.1:" + std::to_string(server.port()) +
                            " protocol=ack oneshot=0 proxy_protocol=0 pid=" +
                            std::to_string(server.pid()) + "\n");
  EXPECT_FALSE(access((path_ + ".tmp").c_str(), F_OK) == 0) << "PATH.tmp left behind";
  // What the file says reaches the server.
  auto client = TestClient::connect(server.port(), "127.0.0.1");
  ASSERT_TRUE(client);
  EXPECT_EQ(client->exchange("hi\n", milliseconds(5000)).size(), 3u);

  server.signal(SIGTERM);
  EXPECT_EQ(server.waitExit(milliseconds(10000)), 0);
  EXPECT_FALSE(exists()) << "the status file outlives the server";
}

TEST_F(StatusFileTest, DualStackWildcardAndExplicitAddresses) {
  {
    // "::" also serves IPv4: the checker uses 127.0.0.1, which works where IPv6 is disabled.
    ServerProcess server({"--bind=::", "--workers=1", "--oneshot", "--status_file=" + path_});
    EXPECT_EQ(contents(), "address=127.0.0.1:" + std::to_string(server.port()) +
                              " protocol=echo oneshot=1 proxy_protocol=0 pid=" +
                              std::to_string(server.pid()) + "\n");
    server.signal(SIGTERM);
    EXPECT_EQ(server.waitExit(milliseconds(10000)), 0);
  }
  EXPECT_FALSE(exists());
  ServerProcess server({"--bind=127.0.0.2", "--workers=1", "--status_file=" + path_});
  EXPECT_EQ(contents().rfind("address=127.0.0.2:" + std::to_string(server.port()) + " ", 0), 0u)
      << contents();
}

TEST_F(StatusFileTest, AnExistingFileIsReplaced) {
  {
    std::ofstream stale(path_);
    stale << "address=127.0.0.1:1 protocol=ack oneshot=0 pid=1\n";
  }
  ServerProcess server({"--workers=1", "--status_file=" + path_});
  EXPECT_NE(contents().find(":" + std::to_string(server.port()) + " protocol=echo"),
            std::string::npos)
      << contents();
}

// A takeover with the same --status_file (blue/green instances of one service): the file names
// the new process, and the old one, draining out, leaves it in place.
TEST_F(StatusFileTest, AfterATakeoverTheFileNamesTheNewProcessAndOutlivesTheOld) {
  const std::string control = dir_.file("control");
  ServerProcess old({"--workers=1", "--control_socket=" + control, "--status_file=" + path_});
  ServerProcess fresh({"--workers=1", "--takeover_from=" + control, "--control_socket=" + control,
                       "--status_file=" + path_});
  EXPECT_EQ(fresh.port(), old.port());
  EXPECT_EQ(old.waitExit(milliseconds(20000)), 0) << old.log();
  ASSERT_TRUE(exists()) << "the old process removed the new one's status file";
  EXPECT_EQ(contents(), "address=127.0.0.1:" + std::to_string(fresh.port()) +
                            " protocol=echo oneshot=0 proxy_protocol=0 pid=" +
                            std::to_string(fresh.pid()) + "\n");
  fresh.signal(SIGTERM);
  EXPECT_EQ(fresh.waitExit(milliseconds(20000)), 0);
  EXPECT_FALSE(exists());
}

TEST_F(StatusFileTest, AnUnwritablePathFailsTheStartNamingPathAndReason) {
  const std::string missing = dir_.file("no/such/dir/reactord.status");
  const RunResult result = runReactord({"--status_file=" + missing});
  EXPECT_EQ(result.exit_code, 1) << result.output;
  EXPECT_NE(result.output.find(missing + ".tmp"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("No such file or directory"), std::string::npos) << result.output;
}

}  // namespace
}  // namespace reactord::testing
