// Starting in a hostile environment: closed standard descriptors, too few descriptors or threads,
// addresses nobody can reach. Every failure exits 1 with one line that says what to change.
#include <gtest/gtest.h>
#include <signal.h>

#include <string>
#include <vector>

#include "tests/fault/fault_util.h"
#include "tests/integration/test_client.h"

namespace reactord::testing {
namespace {

// The one of `ports` that echoes (the data port), or 0.
uint16_t echoPort(const std::vector<uint16_t>& ports) {
  for (const uint16_t port : ports) {
    auto client = TestClient::connect(port);
    if (client && client->exchange("x\n", seconds(2)) == "x\n") {
      return port;
    }
  }
  return 0;
}

// Started with stderr closed (`2>&-`, as careless init scripts do), the server must not give
// descriptor 2 to a socket: glog writes there. Worker 0's listener would be fd 2; once a drain has
// closed it, the next admin connection would be, and would receive the drain's log lines and a
// stats line without asking for anything.
TEST(FaultStartup, ClosedStderrSendsNoLogLineToAnyClient) {
  ChildSetup setup;
  setup.close_stderr = true;
  ServerProcess server({"--workers=1", "--admin_port=-1", "--drain_timeout_s=10"}, setup,
                       /*wait_listening=*/false);
  std::vector<uint16_t> ports;
  ASSERT_TRUE(waitUntil(
      [&] {
        ports = listeningPorts(server.pid());
        return ports.size() == 2;
      },
      seconds(10)))
      << ports.size() << " listening ports";
  const uint16_t data_port = echoPort(ports);
  ASSERT_NE(data_port, 0);
  const uint16_t admin_port = ports[0] == data_port ? ports[1] : ports[0];

  auto data = TestClient::connect(data_port);  // keeps the drain going
  ASSERT_TRUE(data);
  ASSERT_EQ(data->exchange("before"), "before");
  auto early_admin = TestClient::connect(admin_port);
  ASSERT_TRUE(early_admin);
  server.signal(SIGTERM);
  ASSERT_TRUE(waitUntil([&] { return listenerCount(data_port) == 0; }, seconds(10)));
  auto admin = TestClient::connect(admin_port);  // the lowest free descriptor: 2, before the fix
  ASSERT_TRUE(admin);
  server.signal(SIGUSR1);  // a stats line
  const std::string unasked = admin->readFor(milliseconds(500));
  EXPECT_EQ(unasked, "") << "log bytes reached an admin client";
  EXPECT_EQ(early_admin->readFor(milliseconds(1)), "");
  ASSERT_TRUE(admin->sendAll("GET /healthz HTTP/1.0\r\n\r\n"));
  const std::string answer = admin->readUntilClosed(seconds(5));
  EXPECT_TRUE(answer.starts_with("HTTP/1.")) << answer;
  EXPECT_EQ(data->exchange("during"), "during");
  data->shutdownWrite();
  bool closed = false;
  EXPECT_EQ(data->readUntilClosed(seconds(10), &closed), "");
  EXPECT_TRUE(closed);
  EXPECT_EQ(server.waitExit(seconds(10)), 0);
  std::printf("[ figure ] stderr closed at start: %zu bytes reached the admin client unasked\n",
              unasked.size());
}

}  // namespace
}  // namespace reactord::testing
