// reactor-client, the binary, against reactord and against the test server.
#include <gtest/gtest.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>

#include <fstream>
#include <string>
#include <vector>

#include "common/listen_socket.h"
#include "common/proxy_header_parser.h"
#include "common/socket_address.h"
#include "tests/client/subprocess.h"
#include "tests/client/test_server.h"
#include "tests/support/server_process.h"
#include "tests/support/temp_dir.h"

namespace reactord::client::testing {
namespace {

using std::chrono::milliseconds;

// Every run is bounded; a hang fails the test instead of blocking the suite.
constexpr milliseconds kDeadline(20000);

ProcessResult client(uint16_t port, std::vector<std::string> args, const std::string& input = "") {
  args.insert(args.begin(), {REACTOR_CLIENT_BINARY, "--port=" + std::to_string(port)});
  return runProcess(args, input, kDeadline);
}

std::vector<std::string> serverFlags(const char* protocol) {
  return {"--bind=127.0.0.1", "--workers=1", std::string("--protocol=") + protocol};
}

// A loopback port with nothing listening: bound once to learn a free number, then closed.
uint16_t closedPort() {
  auto socket = common::openListenSocket(*common::SocketAddress::parse("127.0.0.1", 0), 1, false);
  return common::SocketAddress::localOf(socket.fd.get())->port();
}

TEST(ReactorClientTest, EchoesTheTutorialMessage) {
  reactord::testing::ServerProcess server(serverFlags("echo"));
  const ProcessResult run = client(server.port(), {"Hello, Async World!"});
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out, "Hello, Async World!\n");
}

TEST(ReactorClientTest, SeveralMessagesGetOneReplyLineEach) {
  reactord::testing::ServerProcess server(serverFlags("echo"));
  const ProcessResult run = client(server.port(), {"one", "two words", "three"});
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out, "one\ntwo words\nthree\n");
}

TEST(ReactorClientTest, AckProtocolPrintsTheAcknowledgement) {
  reactord::testing::ServerProcess server(serverFlags("ack"));
  const ProcessResult run = client(server.port(), {"--protocol=ack", "Hello, Async World!", "2nd"});
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out, "Message received\nMessage received\n");
}

TEST(ReactorClientTest, StdinIsSentHalfClosedAndEverythingComesBack) {
  reactord::testing::ServerProcess server(serverFlags("echo"));
  std::string input;
  for (int i = 0; input.size() < 3 * 1024 * 1024; ++i) {  // more than the socket buffers hold
    input += "line " + std::to_string(i) + " of the input, with some padding to make it longer\n";
  }
  const ProcessResult run = client(server.port(), {}, input);
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out.size(), input.size());
  EXPECT_TRUE(run.out == input);
}

TEST(ReactorClientTest, StdinLinesAreEachAcknowledgedIncludingTheLastUnterminatedOne) {
  reactord::testing::ServerProcess server(serverFlags("ack"));
  const ProcessResult run = client(server.port(), {}, "first\nsecond\nthird without newline");
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out, "Message received\nMessage received\nMessage received\n");
}

TEST(ReactorClientTest, CheckSucceedsForBothProtocols) {
  reactord::testing::ServerProcess echo(serverFlags("echo"));
  reactord::testing::ServerProcess ack(serverFlags("ack"));
  const ProcessResult echo_run = client(echo.port(), {"--check"});
  EXPECT_EQ(echo_run.exit_code, 0) << echo_run.err;
  EXPECT_EQ(echo_run.out.rfind("ok: echo round trip", 0), 0u) << echo_run.out;
  const ProcessResult ack_run = client(ack.port(), {"--check", "--protocol=ack"});
  EXPECT_EQ(ack_run.exit_code, 0) << ack_run.err;
  // The wrong protocol is a failed check, not a hang.
  const ProcessResult wrong = client(ack.port(), {"--check", "--timeout_ms=2000"});
  EXPECT_NE(wrong.exit_code, 0);
  EXPECT_FALSE(wrong.timed_out);
}

TEST(ReactorClientTest, CheckFailsOnAClosedPort) {
  const ProcessResult run = client(closedPort(), {"--check", "--timeout_ms=2000"});
  EXPECT_FALSE(run.timed_out);
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_NE(run.err.find("Connection refused"), std::string::npos) << run.err;
  EXPECT_TRUE(run.out.empty());
}

TEST(ReactorClientTest, CheckTimesOutOnAServerThatNeverAnswers) {
  TestServer silent(TestServer::Mode::kSilent);
  const ProcessResult run = client(silent.port(), {"--check", "--timeout_ms=300"});
  EXPECT_FALSE(run.timed_out);  // it gave up by itself, long before the test's deadline
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_NE(run.err.find("timed out"), std::string::npos) << run.err;
}

// Behind a balancer (--proxy_protocol) the server refuses a connection without a header: the
// status file says so, and the check sends a v2 LOCAL header, as the balancer's own checks do.
TEST(ReactorClientTest, CheckSendsALocalHeaderWhenTheStatusFileAsksForOne) {
  const reactord::testing::TempDir dir("reactor-client-status-proxy");
  const std::string path = dir.file("reactord.status");
  reactord::testing::ServerProcess server({"--workers=1", "--proxy_protocol",
                                           "--proxy_protocol_from=127.0.0.0/8",
                                           "--status_file=" + path});
  const ProcessResult run =
      runProcess({REACTOR_CLIENT_BINARY, "--check", "--timeout_ms=2000", "--status_file=" + path},
                 "", kDeadline);
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out.rfind("ok: echo round trip", 0), 0u) << run.out;
  // Without the header (the check before the status file carried the key) the server refuses.
  const ProcessResult bare =
      client(server.port(), {"--check", "--timeout_ms=2000", "--proxy_header=none"});
  EXPECT_EQ(bare.exit_code, 1) << bare.out;
}

// The container HEALTHCHECK: --status_file gives the address and the protocol, whatever port and
// protocol the server was started with.
TEST(ReactorClientTest, CheckReadsAddressAndProtocolFromTheStatusFile) {
  const reactord::testing::TempDir dir("reactor-client-status");
  const std::string path = dir.file("reactord.status");
  auto check = [&](std::vector<std::string> extra = {}) {
    std::vector<std::string> argv = {REACTOR_CLIENT_BINARY, "--check", "--timeout_ms=2000",
                                     "--status_file=" + path};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return runProcess(argv, "", kDeadline);
  };
  {
    reactord::testing::ServerProcess ack(
        {"--bind=0.0.0.0", "--workers=1", "--protocol=ack", "--status_file=" + path});
    const ProcessResult run = check();
    EXPECT_EQ(run.exit_code, 0) << run.err;
    EXPECT_EQ(run.out.rfind("ok: ack round trip with 127.0.0.1:" + std::to_string(ack.port()), 0),
              0u)
        << run.out;
    // The file names the address: flags that would contradict it are refused.
    const ProcessResult both = check({"--port=" + std::to_string(ack.port())});
    EXPECT_EQ(both.exit_code, 1);
    EXPECT_NE(both.err.find("drop --port"), std::string::npos) << both.err;
    const ProcessResult no_check =
        runProcess({REACTOR_CLIENT_BINARY, "--status_file=" + path, "hello"}, "", kDeadline);
    EXPECT_EQ(no_check.exit_code, 1);
    EXPECT_NE(no_check.err.find("goes with --check"), std::string::npos) << no_check.err;
    ack.signal(SIGTERM);
    EXPECT_EQ(ack.waitExit(milliseconds(10000)), 0);
  }
  // The server is gone and so is its file: the check fails and says why.
  const ProcessResult missing = check();
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find(path + ": No such file or directory"), std::string::npos)
      << missing.err;
  EXPECT_TRUE(missing.out.empty());

  // A file left behind by a server killed without cleanup: its address refuses, the check fails.
  {
    std::ofstream stale(path);
    stale << "address=127.0.0.1:" << closedPort() << " protocol=echo oneshot=0 pid=1\n";
  }
  const ProcessResult stale = check();
  EXPECT_EQ(stale.exit_code, 1);
  EXPECT_NE(stale.err.find("Connection refused"), std::string::npos) << stale.err;
  {
    std::ofstream garbage(path);
    garbage << "port 7000\n";
  }
  const ProcessResult malformed = check();
  EXPECT_EQ(malformed.exit_code, 1);
  EXPECT_NE(malformed.err.find("malformed: 'port' is not key=value"), std::string::npos)
      << malformed.err;
}

TEST(ReactorClientTest, MessageModeTimesOutToo) {
  TestServer silent(TestServer::Mode::kSilent);
  const ProcessResult run = client(silent.port(), {"--timeout_ms=300", "anyone there?"});
  EXPECT_FALSE(run.timed_out);
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_NE(run.err.find("timed out"), std::string::npos) << run.err;
}

TEST(ReactorClientTest, CorruptedEchoIsAnError) {
  TestServer corrupt(TestServer::Mode::kCorrupt);
  const ProcessResult run = client(corrupt.port(), {std::string(300, 'x')});
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_NE(run.err.find("mismatch"), std::string::npos) << run.err;
}

TEST(ReactorClientTest, RefusedConnectionIsAnError) {
  const ProcessResult run = client(closedPort(), {"hello"});
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_NE(run.err.find("cannot connect to 127.0.0.1:"), std::string::npos) << run.err;
}

TEST(ReactorClientTest, BadFlagsAreRejected) {
  for (const char* flag : {"--protocol=smtp", "--timeout_ms=0", "--no_such_flag"}) {
    const ProcessResult run = client(7000, {flag, "x"});
    EXPECT_NE(run.exit_code, 0) << flag;
    EXPECT_FALSE(run.err.empty()) << flag;
  }
  const ProcessResult port =
      runProcess({REACTOR_CLIENT_BINARY, "--port=70000", "x"}, "", kDeadline);
  EXPECT_NE(port.exit_code, 0);
  const ProcessResult check = client(7000, {"--check", "unexpected"});
  EXPECT_NE(check.exit_code, 0);
}

TEST(ReactorClientTest, Ipv6Literal) {
  reactord::testing::ServerProcess server({"--bind=::1", "--workers=1"}, /*wait_listening=*/false);
  if (!server.waitForLog("listening on", milliseconds(5000))) {
    GTEST_SKIP() << "no IPv6 loopback on this machine";  // e.g. a container with IPv6 off
  }
  const std::string log = server.log();
  const size_t at = log.find("listening on");
  const auto port =
      static_cast<uint16_t>(std::stoi(log.substr(log.rfind(':', log.find(" workers=", at)) + 1)));
  const ProcessResult run = client(port, {"--host=::1", "over IPv6"});
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out, "over IPv6\n");
}

// True when "localhost" resolves to 127.0.0.1 here (a bare chroot may have no /etc/hosts).
bool localhostIsLoopback() {
  addrinfo hints{};
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (getaddrinfo("localhost", nullptr, &hints, &found) != 0) {
    return false;
  }
  const bool loopback =
      reinterpret_cast<sockaddr_in*>(found->ai_addr)->sin_addr.s_addr == htonl(INADDR_LOOPBACK);
  freeaddrinfo(found);
  return loopback;
}

TEST(ReactorClientTest, HostNames) {
  reactord::testing::ServerProcess server(serverFlags("echo"));  // 127.0.0.1
  if (localhostIsLoopback()) {
    const ProcessResult name = client(server.port(), {"--host=localhost", "--check"});
    EXPECT_EQ(name.exit_code, 0) << name.err;
  } else {
    std::printf("note: 'localhost' does not resolve to 127.0.0.1 here; name lookup not tried\n");
  }
  const ProcessResult unknown = client(server.port(), {"--host=no-such-host.invalid", "x"});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_NE(unknown.err.find("cannot resolve host"), std::string::npos) << unknown.err;
}

std::string sourceIp(const common::ProxyHeader& header) {
  return common::SocketAddress::of(header.source).ipString();
}

TEST(ReactorClientTest, ProxyHeaderGoesFirstInEachVersion) {
  TestServer echo(TestServer::Mode::kEcho, /*proxy_header=*/true);
  const ProcessResult v1 = client(echo.port(), {"--proxy_header=v1", "through v1"});
  EXPECT_EQ(v1.exit_code, 0) << v1.err;
  EXPECT_EQ(v1.out, "through v1\n");
  const ProcessResult v2 =
      client(echo.port(), {"--proxy_header=v2", "--proxy_source=203.0.113.9", "through v2"});
  EXPECT_EQ(v2.exit_code, 0) << v2.err;
  EXPECT_EQ(v2.out, "through v2\n");
  const std::vector<common::ProxyHeader> headers = echo.proxyHeaders();
  ASSERT_EQ(headers.size(), 2u);
  EXPECT_EQ(headers[0].version, 1);
  ASSERT_TRUE(headers[0].has_addresses);
  EXPECT_EQ(sourceIp(headers[0]), "127.0.0.1");  // the connection's own address
  EXPECT_EQ(common::SocketAddress::of(headers[0].destination).port(), echo.port());
  EXPECT_EQ(headers[1].version, 2);
  ASSERT_TRUE(headers[1].has_addresses);
  EXPECT_EQ(sourceIp(headers[1]), "203.0.113.9");
  EXPECT_NE(common::SocketAddress::of(headers[1].source).port(), 0);
  EXPECT_EQ(echo.proxyErrors(), 0u);
}

TEST(ReactorClientTest, CheckSendsALocalHeaderAndStdinModeAHeaderToo) {
  TestServer ack(TestServer::Mode::kAck, /*proxy_header=*/true);
  const ProcessResult check =
      client(ack.port(), {"--check", "--protocol=ack", "--proxy_header=v2-local"});
  EXPECT_EQ(check.exit_code, 0) << check.err;
  const ProcessResult stream =
      client(ack.port(), {"--protocol=ack", "--proxy_header=v1", "--proxy_source=2001:db8::5"},
             "one\ntwo\n");
  EXPECT_EQ(stream.exit_code, 0) << stream.err;
  EXPECT_EQ(stream.out, "Message received\nMessage received\n");
  const std::vector<common::ProxyHeader> headers = ack.proxyHeaders();
  ASSERT_EQ(headers.size(), 2u);
  EXPECT_TRUE(headers[0].local);
  EXPECT_FALSE(headers[0].has_addresses);
  EXPECT_EQ(headers[1].version, 1);
  EXPECT_EQ(sourceIp(headers[1]), "2001:db8::5");  // an IPv6 client through an IPv4 connection
}

TEST(ReactorClientTest, ProxyFlagsAreChecked) {
  for (const auto& flags : {std::vector<std::string>{"--proxy_header=v3"},
                            {"--proxy_header=v1", "--proxy_source=example.com"},
                            {"--proxy_source=192.0.2.1"},
                            {"--proxy_header=v2-local", "--proxy_source=192.0.2.1"}}) {
    std::vector<std::string> args = flags;
    args.push_back("x");
    const ProcessResult run = client(7000, args);
    EXPECT_EQ(run.exit_code, 1) << flags.back();
    EXPECT_NE(run.err.find("proxy_"), std::string::npos) << run.err;
  }
}

TEST(ReactorClientTest, WorksAgainstAnIndependentEchoServer) {
  TestServer echo(TestServer::Mode::kEcho);
  const ProcessResult run = client(echo.port(), {"Hello, Async World!"});
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out, "Hello, Async World!\n");
}

}  // namespace
}  // namespace reactord::client::testing
