// reactor-bench, the binary: short runs of every mode, their JSON checked, and servers that fail
// in known ways to prove that failures are counted and make the exit code non-zero.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "common/listen_socket.h"
#include "common/proxy_header_parser.h"
#include "common/socket_address.h"
#include "tests/client/flat_json.h"
#include "tests/client/subprocess.h"
#include "tests/client/test_server.h"
#include "tests/support/server_process.h"

namespace reactord::client::testing {
namespace {

using Json = std::map<std::string, std::string>;

struct BenchRun {
  ProcessResult process;
  Json json;

  double number(const std::string& key) const {
    const auto it = json.find(key);
    return it == json.end() ? -1 : std::stod(it->second);
  }
  double errors() const {
    return number("errors.mismatches") + number("errors.resets") + number("errors.timeouts") +
           number("errors.connect_failures");
  }
};

// One short run: 1 s measured, no warm-up, JSON out. Bounded by a deadline far above its length.
BenchRun bench(uint16_t port, std::vector<std::string> flags) {
  std::vector<std::string> args = {REACTOR_BENCH_BINARY, "--port=" + std::to_string(port),
                                   "--duration_s=1", "--warmup_s=0", "--json"};
  args.insert(args.end(), flags.begin(), flags.end());
  BenchRun run;
  run.process = runProcess(args, "", std::chrono::milliseconds(60000));
  EXPECT_FALSE(run.process.timed_out);
  const size_t newline = run.process.out.find('\n');
  if (auto json = parseFlatJson(run.process.out.substr(0, newline))) {
    run.json = *json;
  }
  return run;
}

// What every successful run must show.
void expectClean(const BenchRun& run, const char* mode) {
  ASSERT_EQ(run.process.exit_code, 0) << run.process.err;
  ASSERT_EQ(run.json.size(), 25u) << run.process.out;
  EXPECT_EQ(run.process.out.find('\n'), run.process.out.size() - 1) << "one line of JSON";
  EXPECT_EQ(run.json.at("mode"), mode);
  EXPECT_GT(run.number("messages"), 0);
  EXPECT_GT(run.number("msgs_per_s"), 0);
  EXPECT_EQ(run.errors(), 0) << run.process.out;
  EXPECT_GT(run.number("duration_s"), 0);
  EXPECT_GE(run.number("client_cpu_s"), 0);
  EXPECT_GT(run.number("latency_us.p50"), 0);
  EXPECT_LE(run.number("latency_us.p50"), run.number("latency_us.p90"));
  EXPECT_LE(run.number("latency_us.p90"), run.number("latency_us.p99"));
  EXPECT_LE(run.number("latency_us.p99"), run.number("latency_us.p999"));
  EXPECT_LE(run.number("latency_us.p999"), run.number("latency_us.max"));
}

std::vector<std::string> serverFlags(const char* protocol) {
  return {"--bind=127.0.0.1", "--workers=2", std::string("--protocol=") + protocol};
}

class ReactorBenchEchoTest : public ::testing::Test {
 protected:
  reactord::testing::ServerProcess server_{serverFlags("echo")};
};

TEST_F(ReactorBenchEchoTest, PingPong) {
  const BenchRun run = bench(server_.port(), {"--connections=8", "--pipeline=2", "--threads=2"});
  expectClean(run, "pingpong");
  EXPECT_EQ(run.number("connects"), 8);
  EXPECT_NEAR(run.number("bytes_per_s"), run.number("msgs_per_s") * 64, 64);  // %.1f rounding
}

TEST_F(ReactorBenchEchoTest, Churn) {
  const BenchRun run = bench(server_.port(), {"--mode=churn", "--connections=4"});
  expectClean(run, "churn");
  EXPECT_GT(run.number("connects"), 4);
  // One message per connection: they can differ only by the connections cut by the window edges.
  EXPECT_NEAR(run.number("messages"), run.number("connects"), 8);
}

TEST_F(ReactorBenchEchoTest, ChurnAtAFixedConnectRate) {
  // 100 slots: a slot is busy for one round trip, so they run out only if round trips take
  // 333 ms, which even a loaded 2-core machine does not reach (20 slots did, at 66 ms).
  const BenchRun run = bench(server_.port(), {"--mode=churn", "--connections=100",
                                              "--connect_rate=300", "--duration_s=1"});
  expectClean(run, "churn");
  // The schedule sets the pace, not the server: 300 in the 1 s window, fewer only when the
  // client's timer runs late on a loaded machine (never more).
  EXPECT_GE(run.number("connects"), 150) << run.process.out;
  EXPECT_LE(run.number("connects"), 302) << run.process.out;
  EXPECT_EQ(run.number("missed_connects"), 0) << run.process.out;
}

TEST_F(ReactorBenchEchoTest, Bulk) {
  const BenchRun run =
      bench(server_.port(), {"--mode=bulk", "--connections=2", "--message_bytes=16384"});
  expectClean(run, "bulk");
  EXPECT_GT(run.number("bytes_per_s"), 0);
}

TEST_F(ReactorBenchEchoTest, RateStaysOnItsSchedule) {
  const BenchRun run = bench(server_.port(), {"--mode=rate", "--rate=2000", "--connections=8"});
  expectClean(run, "rate");
  // Open loop: no more replies than messages scheduled from the start to the window's end.
  EXPECT_LE(run.number("messages"), 2000 * run.number("duration_s") + 8);
}

TEST_F(ReactorBenchEchoTest, IdleHoldsEveryConnection) {
  const BenchRun run = bench(server_.port(), {"--mode=idle", "--connections=300", "--threads=2"});
  expectClean(run, "idle");
  EXPECT_EQ(run.number("connects"), 300);
  EXPECT_EQ(run.number("messages"), 300);
}

TEST_F(ReactorBenchEchoTest, IdleSummarySaysHowManyWereOpenAtOnce) {
  const ProcessResult run =
      runProcess({REACTOR_BENCH_BINARY, "--port=" + std::to_string(server_.port()), "--mode=idle",
                  "--connections=100", "--duration_s=0.5", "--progress=false"},
                 "", std::chrono::milliseconds(60000));
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.out.find("open at once  100 of 100"), std::string::npos) << run.out;
}

// A client that never reads: it writes until the server stops reading, holds every connection to
// the window's end, and errs nothing.
TEST_F(ReactorBenchEchoTest, StallWritesWithoutReading) {
  const BenchRun run =
      bench(server_.port(), {"--mode=stall", "--connections=6", "--threads=2",
                             "--message_bytes=65536", "--socket_buffer_bytes=4096"});
  ASSERT_EQ(run.process.exit_code, 0) << run.process.err;
  ASSERT_EQ(run.json.size(), 27u) << run.process.out;  // every mode's keys and two of its own
  EXPECT_EQ(run.json.at("mode"), "stall");
  EXPECT_EQ(run.number("connects"), 6);
  EXPECT_GT(run.number("messages"), 6) << "chunks written before the server stopped reading";
  EXPECT_EQ(run.number("server_closes"), 0);
  EXPECT_EQ(run.number("open_at_end"), 6);
  EXPECT_EQ(run.errors(), 0) << run.process.out;
}

// Against a server under a small budget, connections the server closes are counted, not errors,
// and opened again.
TEST(ReactorBenchStallTest, ServerClosesAreCountedAndRetried) {
  reactord::testing::ServerProcess server(
      {"--bind=127.0.0.1", "--workers=1", "--max_buffered_bytes=1048576"});
  const BenchRun run = bench(server.port(), {"--mode=stall", "--connections=20",
                                             "--message_bytes=65536", "--duration_s=3"});
  ASSERT_EQ(run.process.exit_code, 0) << run.process.err;
  EXPECT_GT(run.number("server_closes"), 0) << run.process.out;
  EXPECT_GT(run.number("connects"), 20) << "closed connections are opened again";
  EXPECT_EQ(run.errors(), 0) << run.process.out;
}

TEST(ReactorBenchAckTest, PingPongAndChurn) {
  reactord::testing::ServerProcess server(serverFlags("ack"));
  expectClean(bench(server.port(), {"--protocol=ack", "--connections=8", "--pipeline=4"}),
              "pingpong");
  expectClean(bench(server.port(),
                    {"--protocol=ack", "--mode=churn", "--connections=4", "--message_bytes=100"}),
              "churn");
}

TEST(ReactorBenchIndependentServerTest, PingPongAgainstTheTestServer) {
  TestServer echo(TestServer::Mode::kEcho);
  expectClean(bench(echo.port(), {"--connections=4", "--message_bytes=1000"}), "pingpong");
}

TEST(ReactorBenchFailureTest, CorruptedEchoIsCountedAndFailsTheRun) {
  TestServer corrupt(TestServer::Mode::kCorrupt);
  const BenchRun run = bench(corrupt.port(), {"--connections=4"});
  EXPECT_EQ(run.process.exit_code, 1);
  ASSERT_EQ(run.json.size(), 25u) << run.process.out;
  EXPECT_GT(run.number("errors.mismatches"), 0);
  EXPECT_NE(run.process.err.find("reply mismatch"), std::string::npos) << run.process.err;
}

TEST(ReactorBenchFailureTest, SilentServerGivesTimeouts) {
  TestServer silent(TestServer::Mode::kSilent);
  const BenchRun run = bench(silent.port(), {"--connections=2", "--timeout_ms=200"});
  EXPECT_EQ(run.process.exit_code, 1);
  EXPECT_GT(run.number("errors.timeouts"), 0) << run.process.out;
  EXPECT_EQ(run.number("messages"), 0);
}

TEST(ReactorBenchFailureTest, RefusedConnectsAreCounted) {
  auto socket = common::openListenSocket(*common::SocketAddress::parse("127.0.0.1", 0), 1, false);
  const uint16_t port = common::SocketAddress::localOf(socket.fd.get())->port();
  socket.fd.reset();  // nothing listens there now
  const BenchRun run = bench(port, {"--connections=2", "--mode=churn"});
  EXPECT_EQ(run.process.exit_code, 1);
  EXPECT_GT(run.number("errors.connect_failures"), 0) << run.process.out;
  EXPECT_EQ(run.number("errors.connect_refused"), run.number("errors.connect_failures"));
  EXPECT_EQ(run.number("errors.connect_timeouts"), 0);
  EXPECT_NE(run.process.err.find("Connection refused"), std::string::npos);
}

TEST(ReactorBenchFailureTest, RefusedConnectsAtAFixedRateAreCountedOneEach) {
  auto socket = common::openListenSocket(*common::SocketAddress::parse("127.0.0.1", 0), 1, false);
  const uint16_t port = common::SocketAddress::localOf(socket.fd.get())->port();
  socket.fd.reset();
  // Open loop: one refusal per scheduled connect, not one per slot and retry delay.
  const BenchRun run =
      bench(port, {"--connections=10", "--mode=churn", "--connect_rate=200", "--duration_s=1"});
  EXPECT_EQ(run.process.exit_code, 1);
  // 200 connects scheduled in the 1 s window; a loaded machine may run the timer late, so
  // between half and all of them, never more.
  EXPECT_GE(run.number("errors.connect_refused"), 100) << run.process.out;
  EXPECT_LE(run.number("errors.connect_refused"), 201) << run.process.out;
  EXPECT_EQ(run.number("missed_connects"), 0) << run.process.out;
}

TEST(ReactorBenchFailureTest, RefusesMoreConnectionsThanOpenFiles) {
  const ProcessResult run = runProcess(
      {REACTOR_BENCH_BINARY, "--mode=idle", "--connections=1000000"}, "", std::chrono::seconds(20));
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_NE(run.err.find("open files"), std::string::npos) << run.err;
}

TEST(ReactorBenchFailureTest, BadFlagsAreRejected) {
  for (const char* flag : {"--mode=storm", "--protocol=smtp", "--connections=0",
                           "--message_bytes=0", "--threads=0", "--duration_s=-1"}) {
    const ProcessResult run =
        runProcess({REACTOR_BENCH_BINARY, flag}, "", std::chrono::seconds(20));
    EXPECT_EQ(run.exit_code, 1) << flag;
    EXPECT_FALSE(run.err.empty()) << flag;
  }
  const ProcessResult ack = runProcess(
      {REACTOR_BENCH_BINARY, "--protocol=ack", "--message_bytes=1"}, "", std::chrono::seconds(20));
  EXPECT_EQ(ack.exit_code, 1);
}

TEST(ReactorBenchTest, ProxyHeaderOnEveryConnection) {
  TestServer echo(TestServer::Mode::kEcho, /*proxy_header=*/true);
  const BenchRun v2 =
      bench(echo.port(), {"--connections=4", "--proxy_header=v2", "--proxy_source=198.51.100.4"});
  expectClean(v2, "pingpong");
  TestServer ack(TestServer::Mode::kAck, /*proxy_header=*/true);
  const BenchRun churn =
      bench(ack.port(), {"--mode=churn", "--protocol=ack", "--connections=2", "--proxy_header=v1"});
  expectClean(churn, "churn");

  const std::vector<common::ProxyHeader> echo_headers = echo.proxyHeaders();
  EXPECT_EQ(echo_headers.size(), 4u);
  for (const common::ProxyHeader& header : echo_headers) {
    EXPECT_EQ(header.version, 2);
    EXPECT_EQ(common::SocketAddress::of(header.source).ipString(), "198.51.100.4");
  }
  // One header per connection: churn made many.
  const std::vector<common::ProxyHeader> ack_headers = ack.proxyHeaders();
  EXPECT_EQ(ack_headers.size(), ack.accepted());
  EXPECT_GT(ack_headers.size(), 2u);
  EXPECT_EQ(ack_headers.front().version, 1);
  EXPECT_EQ(common::SocketAddress::of(ack_headers.front().source).ipString(), "127.0.0.1");
  EXPECT_EQ(echo.proxyErrors() + ack.proxyErrors(), 0u);
}

}  // namespace
}  // namespace reactord::client::testing
