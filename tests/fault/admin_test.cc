// The admin endpoint under abuse: descriptor exhaustion, connections that trickle or crowd the
// port, methods and heads that are not what it serves.
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <algorithm>
#include <string>
#include <vector>

#include "tests/fault/close_watcher.h"
#include "tests/fault/fault_util.h"
#include "tests/support/http_client.h"
#include "tests/support/test_client.h"

namespace reactord::testing {
namespace {

constexpr int kFileLimit = 64;

// The status code of the response to `request`, sent as is; 0 when none came before the close.
int statusOf(uint16_t port, const std::string& request, std::string* response = nullptr) {
  auto client = TestClient::connect(port);
  if (!client || !client->sendAll(request)) {
    return 0;
  }
  const std::string text = client->readUntilClosed(seconds(5));
  if (response != nullptr) {
    *response = text;
  }
  return text.starts_with("HTTP/1.") && text.size() >= 12 ? std::stoi(text.substr(9, 3)) : 0;
}

// With the process out of descriptors (64 at most, the data port's crowd holding them), a
// scrape must not make the admin thread spin on accept() nor flood the log: before, one connect
// cost a core and 20 MB of log a second. Once descriptors are free again the scrape is answered.
TEST(FaultAdmin, DescriptorExhaustionNeitherSpinsNorFloodsTheLog) {
  ChildSetup setup;
  setup.open_file_limit = kFileLimit;
  ServerProcess server({"--workers=1", "--admin_port=-1"}, setup);
  const uint16_t admin = adminPort(server);
  ASSERT_NE(admin, 0);
  std::vector<TestClient> crowd;
  for (int i = 0; i < kFileLimit + 16; ++i) {  // the last ones wait in the accept queue
    auto client = TestClient::connect(server.port());
    ASSERT_TRUE(client) << i;
    crowd.push_back(std::move(*client));
  }
  ASSERT_TRUE(waitUntil([&] { return server.fdCount() >= kFileLimit; }, seconds(10)))
      << server.fdCount();
  auto scrape = TestClient::connect(admin);  // completes in the kernel; accept() fails: EMFILE
  ASSERT_TRUE(scrape);
  ASSERT_TRUE(scrape->sendAll("GET /healthz HTTP/1.0\r\n\r\n"));
  std::this_thread::sleep_for(milliseconds(200));  // let a spin, if any, get going
  const double cpu_before = threadCpuSeconds(server.pid(), "reactord-admin");
  const size_t log_before = server.log().size();
  std::this_thread::sleep_for(seconds(1));  // the measurement window itself
  const double admin_cpu = threadCpuSeconds(server.pid(), "reactord-admin") - cpu_before;
  const size_t log_growth = server.log().size() - log_before;
  ASSERT_GE(cpu_before, 0) << "no reactord-admin thread";
  // Healthy: 0.00 s and about 250 bytes (a line a second from the admin thread and the worker).
  // Spinning: 0.5-1 s of CPU and megabytes, even on a loaded machine.
  EXPECT_LT(admin_cpu, 0.2) << "the admin thread spins on EMFILE";
  EXPECT_LT(log_growth, 4096u) << "the log grows by every failed accept()";

  crowd.erase(crowd.begin() + 10,
              crowd.end());  // descriptors come back: the waiting scrape is accepted and answered
  bool closed = false;
  const std::string answer = scrape->readUntilClosed(seconds(10), &closed);
  EXPECT_TRUE(answer.starts_with("HTTP/1.1 200 OK")) << answer;
  std::string metrics;
  EXPECT_EQ(statusOf(admin, "GET /metrics HTTP/1.0\r\n\r\n", &metrics), 200);
  EXPECT_EQ(metrics.find("reactord_admin_accept_errors_total 0\n"), std::string::npos)
      << "failed accepts are counted";
  std::printf(
      "[ figure ] RLIMIT_NOFILE %d, data port full, a scrape waiting: admin thread %.2f CPU-s "
      "and %zu log bytes over 1 s; the scrape answered once descriptors were back\n",
      kFileLimit, admin_cpu, log_growth);
}

// Whoever reaches the admin port cannot hold more than --admin_max_connections (4 here) of the
// process's descriptors, nor hold them longer than --admin_timeout_s (2 s) by trickling a header
// byte every 200 ms: 40 tricklers get 4 slots, the other 36 an immediate 503, the 4 a 408 at
// 2 +- 1 s; meanwhile the data port serves every connection the rest of the 64 descriptors allow.
TEST(FaultAdmin, TricklersGetAFewSlotsForALimitedTimeAndTheDataPortTheRest) {
  constexpr int kTricklers = 40;
  constexpr int kCap = 4;
  ChildSetup setup;
  setup.open_file_limit = kFileLimit;
  ServerProcess server(
      {"--workers=1", "--admin_port=-1", "--admin_max_connections=4", "--admin_timeout_s=2"},
      setup);
  const uint16_t admin = adminPort(server);
  ASSERT_NE(admin, 0);
  const int baseline_fds = server.fdCount();
  std::vector<TestClient> tricklers;
  std::vector<int> fds;
  const auto start = Clock::now();
  for (int i = 0; i < kTricklers; ++i) {
    auto client = TestClient::connect(admin);
    ASSERT_TRUE(client) << i;
    ASSERT_TRUE(client->sendAll("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: "));
    fds.push_back(client->fd());
    tricklers.push_back(std::move(*client));
  }
  CloseWatcher watcher(fds);
  const auto open_ones = [&] {
    const std::vector<double> closed = watcher.closedAfter(start);
    return std::count(closed.begin(), closed.end(), -1.0);
  };
  ASSERT_TRUE(waitUntil([&] { return open_ones() <= kCap; }, seconds(2))) << open_ones();
  const int admin_fds = server.fdCount() - baseline_fds;

  // The data port takes what is left of the 64 descriptors.
  std::vector<TestClient> data;
  while (static_cast<int>(data.size()) < kFileLimit) {
    auto client = TestClient::connect(server.port());
    if (!client || client->exchange("x", milliseconds(300)) != "x") {
      break;  // the descriptors are used up: this one waits in the accept queue
    }
    data.push_back(std::move(*client));
  }
  const int data_served = static_cast<int>(data.size());
  // Every descriptor not held by the server's own sockets or an admin slot (plus one for a
  // rejection in progress) serves a data connection.
  EXPECT_GE(data_served, kFileLimit - baseline_fds - kCap - 1) << "baseline " << baseline_fds;
  data.clear();

  for (int tick = 0; secondsSince(start) < 4.0; ++tick) {
    const std::vector<double> closed = watcher.closedAfter(start);
    for (int i = 0; i < kTricklers; ++i) {
      if (closed[i] < 0) {
        ::send(tricklers[i].fd(), "a", 1, MSG_NOSIGNAL);
      }
    }
    std::this_thread::sleep_for(milliseconds(200));
  }
  const std::vector<double> closed_after = watcher.closedAfter(start);
  int rejected = 0;
  int timed_out = 0;
  for (int i = 0; i < kTricklers; ++i) {
    const std::string answer = tricklers[i].readFor(milliseconds(100));
    if (answer.starts_with("HTTP/1.1 503")) {
      ++rejected;
      EXPECT_LT(closed_after[i], 1.5) << i;
    } else {
      EXPECT_TRUE(answer.starts_with("HTTP/1.1 408")) << i << ": " << answer;
      EXPECT_GE(closed_after[i], 2.0 - 1.0) << i << " (-1: never closed)";
      EXPECT_LE(closed_after[i], 2.0 + 1.0) << i;
      ++timed_out;
    }
  }
  EXPECT_EQ(rejected, kTricklers - kCap);
  EXPECT_EQ(timed_out, kCap);
  EXPECT_EQ(statusOf(admin, "GET /healthz HTTP/1.0\r\n\r\n"), 200);
  ASSERT_EQ(stopServer(server), 0);
  const auto final_line = server.statsLine();
  EXPECT_EQ(statOf(final_line, "admin_rejected"), kTricklers - kCap) << server.log();
  EXPECT_EQ(statOf(final_line, "admin_timed_out"), kCap);
  std::printf(
      "[ figure ] %d trickling admin clients, --admin_max_connections=%d: %d rejected at once, "
      "%d closed with 408 at the 2 s deadline, admin held %d fds; data port served %d of "
      "%d descriptors (server's own: %d)\n",
      kTricklers, kCap, rejected, timed_out, admin_fds, data_served, kFileLimit, baseline_fds);
}

// GET and HEAD are served; every other method, known or not, in any case, gets 405 with Allow (as
// docs/operations.md, "Admin endpoint", promises); heads that are not HTTP/1.x requests get 400,
// 431 or 505.
TEST(FaultAdmin, EveryOtherMethodGets405AndMalformedHeadsAnError) {
  ServerProcess server({"--workers=1", "--admin_port=-1"});
  const uint16_t admin = adminPort(server);
  ASSERT_NE(admin, 0);
  for (const std::string method :
       {"BREW", "get", "Head", "PROPFIND", "M-SEARCH", "POST", "OPTIONS", "TRACE", "PATCH"}) {
    const HttpResponse response = httpRequest(admin, method, "/metrics");
    EXPECT_EQ(response.status, 405) << method;
    EXPECT_EQ(response.header("allow"), "GET, HEAD") << method;
  }
  std::string response;
  EXPECT_EQ(statusOf(admin, "CONNECT 127.0.0.1:443 HTTP/1.1\r\n\r\n", &response), 405);
  EXPECT_EQ(statusOf(admin, "POST /metrics HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello"), 405);
  EXPECT_EQ(statusOf(admin, "\r\nGET http://host:1/healthz?x HTTP/1.1\r\nHost: h\r\n\r\n"), 200);
  EXPECT_EQ(statusOf(admin, "GET /healthz HTTP/1.1\nHost: h\n\n"), 200) << "bare LF line ends";
  EXPECT_EQ(statusOf(admin, "GET /healthz\r\n\r\n"), 400) << "HTTP/0.9 form";
  EXPECT_EQ(statusOf(admin, "GET  /healthz HTTP/1.1\r\n\r\n"), 400);
  EXPECT_EQ(statusOf(admin, "GET /healthz HTTP/1.1\r\nno colon\r\n\r\n"), 400);
  EXPECT_EQ(statusOf(admin, "G(T /healthz HTTP/1.1\r\n\r\n"), 400);
  EXPECT_EQ(statusOf(admin, "GET /healthz HTTP/2.0\r\n\r\n"), 505);
  EXPECT_EQ(statusOf(admin, "GET /healthz HTTP/1.1\r\nX: " + std::string(9000, 'a') + "\r\n\r\n"),
            431);
  EXPECT_EQ(statusOf(admin, "GET /healthz HTTP/1.1\r\n\r\n", &response), 200);
  EXPECT_NE(response.find("\r\nConnection: close\r\n"), std::string::npos) << response;
  std::printf("[ figure ] 11 methods other than GET and HEAD answered 405 with Allow\n");
}

}  // namespace
}  // namespace reactord::testing
