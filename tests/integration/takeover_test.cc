// Listening-socket takeover with the real binary: a new reactord started with --takeover_from
// serves the old one's listening sockets, whatever the worker counts on either side; every failure
// leaves the old one serving and exits 1; the control socket is owner-only, refused while live,
// replaced when stale, and removed at exit.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "tests/support/http_client.h"
#include "tests/support/server_process.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_client.h"

namespace reactord::testing {
namespace {

// Long enough for a sanitized reactord on a loaded 2-core machine to start, hand over and drain:
// every wait below ends as soon as its condition holds.
constexpr milliseconds kWait{20000};

class TakeoverTest : public ::testing::Test {
 protected:
  std::vector<std::string> oldFlags(int workers) {
    return {"--workers=" + std::to_string(workers), "--control_socket=" + control_};
  }
  // --port=0 (ServerProcess's default) takes whatever port the old process has.
  std::vector<std::string> newFlags(int workers) {
    return {"--workers=" + std::to_string(workers), "--takeover_from=" + control_,
            "--control_socket=" + control_};
  }
  static std::string tookOver(int listeners, pid_t old_pid) {
    return "(took over " + std::to_string(listeners) + " listeners from pid " +
           std::to_string(old_pid) + ")";
  }

  TempDir temp_{"reactord-takeover"};
  const std::string dir_ = temp_.path();
  const std::string control_ = temp_.file("control");
};

// One connection, one message, its echo: what a client of either process sees.
bool echoes(uint16_t port, const std::string& message) {
  auto client = TestClient::connect(port);
  return client && client->sendAll(message) && client->readExactly(message.size()) == message;
}

bool allEcho(uint16_t port, int connections) {
  for (int i = 0; i < connections; ++i) {
    if (!echoes(port, "connection " + std::to_string(i) + "\n")) {
      return false;
    }
  }
  return true;
}

TEST_F(TakeoverTest, MoreWorkersThanListenersOpenTheRestBeside) {
  ServerProcess old(oldFlags(2));
  auto open = TestClient::connect(old.port());
  ASSERT_TRUE(open && open->sendAll("before\n") && open->readExactly(7) == "before\n");

  ServerProcess fresh(newFlags(3));
  EXPECT_EQ(fresh.port(), old.port());
  EXPECT_TRUE(fresh.waitForLog(" workers=3 " + tookOver(2, old.pid()), kWait)) << fresh.log();
  EXPECT_TRUE(
      old.waitForLog("handed 2 listeners over to pid " + std::to_string(fresh.pid()), kWait))
      << old.log();
  // Two sockets handed over, one more opened beside them: three in the group, all the new one's.
  EXPECT_EQ(listenerCount(fresh.port()), 3);
  EXPECT_TRUE(allEcho(fresh.port(), 30));
  // The old process drains: its open connection is still served, to the last byte.
  ASSERT_TRUE(open->sendAll("after\n"));
  EXPECT_EQ(open->readExactly(6), "after\n");
  open->shutdownWrite();
  bool closed = false;
  open->readUntilClosed(kWait, &closed);
  EXPECT_TRUE(closed);
  EXPECT_EQ(old.waitExit(kWait), 0);
  EXPECT_EQ(old.statsLine().at("takeovers_served"), "1") << old.log();
  EXPECT_EQ(old.statsLine().at("forced_closed"), "0");
  EXPECT_TRUE(allEcho(fresh.port(), 10));
  fresh.signal(SIGTERM);
  EXPECT_EQ(fresh.waitExit(kWait), 0);
  EXPECT_EQ(fresh.statsLine().at("takeovers_received"), "1") << fresh.log();
}

TEST_F(TakeoverTest, FewerWorkersServeEveryListenerAndCanBeTakenOverAgain) {
  ServerProcess old(oldFlags(3));
  ServerProcess fresh(newFlags(1));
  EXPECT_TRUE(fresh.waitForLog(" workers=1 " + tookOver(3, old.pid()), kWait)) << fresh.log();
  EXPECT_EQ(old.waitExit(kWait), 0) << old.log();  // nothing open: the drain ends at once
  // One worker serves all three sockets: connections land in every one of their queues.
  EXPECT_EQ(listenerCount(fresh.port()), 3);
  EXPECT_TRUE(allEcho(fresh.port(), 60));
  // The control socket is the new process's now: the next upgrade goes through the same path.
  ServerProcess third(newFlags(2));
  EXPECT_TRUE(third.waitForLog(" workers=2 " + tookOver(3, fresh.pid()), kWait)) << third.log();
  EXPECT_EQ(fresh.waitExit(kWait), 0) << fresh.log();
  EXPECT_TRUE(allEcho(third.port(), 20));
  third.signal(SIGTERM);
  EXPECT_EQ(third.waitExit(kWait), 0);
  EXPECT_FALSE(std::filesystem::exists(control_));  // removed by the last owner at exit
}

// The admin port of the old process (/metrics and the probes) goes to the new one: the old one
// lets it go when it starts draining, and the new one binds it then.
TEST_F(TakeoverTest, TheAdminPortMovesToTheNewProcess) {
  std::vector<std::string> flags = oldFlags(1);
  flags.push_back("--admin_port=-1");
  flags.push_back("--drain_timeout_s=60");
  ServerProcess old(flags);
  const std::string line = "admin listening on 127.0.0.1:";
  ASSERT_TRUE(old.waitForLog(line, kWait));
  const std::string log = old.log();
  const int admin_port = std::stoi(log.substr(log.find(line) + line.size()));
  // An open connection keeps the old process draining (and alive) while the new one binds.
  auto open = TestClient::connect(old.port());
  ASSERT_TRUE(open && open->sendAll("x") && open->readExactly(1) == "x");
  flags = newFlags(1);
  flags.push_back("--admin_port=" + std::to_string(admin_port));
  ServerProcess fresh(flags);
  EXPECT_TRUE(fresh.waitForLog(line + std::to_string(admin_port), kWait)) << fresh.log();
  EXPECT_EQ(old.waitExit(milliseconds(100)), std::nullopt);  // still draining
  const HttpResponse metrics = httpRequest(static_cast<uint16_t>(admin_port), "GET", "/metrics");
  EXPECT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.body.find("reactord_takeovers_received_total 1"), std::string::npos)
      << metrics.body;
  EXPECT_EQ(httpRequest(static_cast<uint16_t>(admin_port), "GET", "/readyz").status, 200);
  open->shutdownWrite();
  EXPECT_TRUE(open->waitPeerGone(kWait));
  EXPECT_EQ(old.waitExit(kWait), 0) << old.log();
}

TEST_F(TakeoverTest, AddressMismatchExitsOneAndTheOldProcessServesOn) {
  ServerProcess old(oldFlags(2));
  for (const std::string& flag :
       {std::string("--bind=127.0.0.1"),
        "--port=" + std::to_string(old.port() == 65535 ? 1 : old.port() + 1)}) {
    std::vector<std::string> flags = newFlags(2);
    flags.push_back(flag);
    ServerProcess fresh(flags, /*wait_listening=*/false);
    EXPECT_EQ(fresh.waitExit(kWait), 1) << flag;
    EXPECT_NE(fresh.log().find("address mismatch"), std::string::npos) << fresh.log();
    EXPECT_NE(fresh.log().find("the old process keeps serving"), std::string::npos) << fresh.log();
    EXPECT_TRUE(old.waitForLog("aborted by the new process: address mismatch", kWait));
  }
  EXPECT_TRUE(allEcho(old.port(), 10));
  EXPECT_EQ(old.log().find("draining"), std::string::npos) << old.log();
  // And it can still be taken over properly.
  ServerProcess fresh(newFlags(2));
  EXPECT_TRUE(fresh.waitForLog(tookOver(2, old.pid()), kWait));
  EXPECT_EQ(old.waitExit(kWait), 0);
}

TEST_F(TakeoverTest, UnreachableOldProcessExitsOne) {
  ServerProcess missing({"--takeover_from=" + dir_ + "/nothing"}, /*wait_listening=*/false);
  EXPECT_EQ(missing.waitExit(kWait), 1);
  EXPECT_NE(missing.log().find("old process not reachable"), std::string::npos) << missing.log();

  // A control socket left by a process killed with SIGKILL: nobody listens there.
  {
    ServerProcess killed(oldFlags(1));
    killed.signal(SIGKILL);
    EXPECT_EQ(killed.waitExit(kWait), -SIGKILL);
  }
  ASSERT_TRUE(std::filesystem::exists(control_));
  ServerProcess stale({"--takeover_from=" + control_}, /*wait_listening=*/false);
  EXPECT_EQ(stale.waitExit(kWait), 1);
  EXPECT_NE(stale.log().find("no process listens there"), std::string::npos) << stale.log();

  // --takeover_optional starts fresh instead, and replaces the stale socket with its own.
  std::vector<std::string> flags = newFlags(1);
  flags.push_back("--takeover_optional");
  ServerProcess optional(flags);
  EXPECT_NE(optional.log().find("nothing to take over"), std::string::npos) << optional.log();
  EXPECT_NE(optional.log().find("replaced the stale"), std::string::npos) << optional.log();
  EXPECT_TRUE(allEcho(optional.port(), 3));
}

TEST_F(TakeoverTest, TakeoverOptionalStartsFreshWhenNothingListens) {
  std::vector<std::string> flags = newFlags(1);
  flags.push_back("--takeover_optional");
  ServerProcess first(flags);
  EXPECT_NE(first.log().find("nothing to take over"), std::string::npos) << first.log();
  EXPECT_TRUE(allEcho(first.port(), 5));
  // The same command line upgrades once something runs.
  flags.push_back("--port=" + std::to_string(first.port()));
  ServerProcess second(flags);
  EXPECT_TRUE(second.waitForLog(tookOver(1, first.pid()), kWait)) << second.log();
  EXPECT_EQ(first.waitExit(kWait), 0);
}

TEST_F(TakeoverTest, ControlSocketIsOwnerOnlyLiveOneRefusedAndRemovedAtExit) {
  ServerProcess server(oldFlags(1));
  struct stat info {};
  ASSERT_EQ(lstat(control_.c_str(), &info), 0);
  EXPECT_TRUE(S_ISSOCK(info.st_mode));
  EXPECT_EQ(info.st_mode & 07777, 0600u);
  // A second reactord (on another port) may not take a live control socket.
  const RunResult second = runReactord({"--control_socket=" + control_});
  EXPECT_EQ(second.exit_code, 1);
  EXPECT_NE(second.output.find("belongs to a running process"), std::string::npos) << second.output;
  EXPECT_TRUE(allEcho(server.port(), 3));
  server.signal(SIGTERM);
  EXPECT_EQ(server.waitExit(kWait), 0);
  EXPECT_FALSE(std::filesystem::exists(control_));
}

TEST_F(TakeoverTest, StaleControlSocketOfAKilledProcessIsReplaced) {
  {
    ServerProcess killed(oldFlags(1));
    killed.signal(SIGKILL);
    EXPECT_EQ(killed.waitExit(kWait), -SIGKILL);
  }
  ASSERT_TRUE(std::filesystem::exists(control_));
  ServerProcess server(oldFlags(1));
  EXPECT_NE(server.log().find("replaced the stale"), std::string::npos) << server.log();
  ServerProcess fresh(newFlags(1));
  EXPECT_TRUE(fresh.waitForLog(tookOver(1, server.pid()), kWait));
}

// Whether `uid` may execute `path` (every directory on the way searchable): a child switches to
// that user and asks.
bool executableBy(int uid, const char* path) {
  const pid_t child = fork();
  if (child == 0) {
    _exit(setgid(uid) == 0 && setuid(uid) == 0 && access(path, X_OK) == 0 ? 0 : 1);
  }
  int status = 0;
  return child > 0 && waitpid(child, &status, 0) == child && WIFEXITED(status) &&
         WEXITSTATUS(status) == 0;
}

TEST_F(TakeoverTest, AnotherUserIsRefused) {
  if (geteuid() != 0) {
    GTEST_SKIP() << "needs root to run the new process as another user";
  }
  if (!executableBy(65534, REACTORD_BINARY)) {
    // A checkout under /root (mode 0700), for one: the other user never gets to start.
    GTEST_SKIP() << "uid 65534 cannot execute " << REACTORD_BINARY
                 << " (a directory on its path is private)";
  }
  ASSERT_EQ(chmod(dir_.c_str(), 0711), 0);  // the directory lets it reach the socket file
  ServerProcess old(oldFlags(1));
  // Without a control socket of its own (the directory is root's): only the connect is tried.
  ServerProcess other({"--takeover_from=" + control_}, /*wait_listening=*/false, 0,
                      /*run_as_uid=*/65534);
  EXPECT_EQ(other.waitExit(kWait), 1);
  EXPECT_NE(other.log().find("permission denied"), std::string::npos) << other.log();
  EXPECT_TRUE(allEcho(old.port(), 3));
  EXPECT_EQ(old.log().find("draining"), std::string::npos) << old.log();
}

TEST_F(TakeoverTest, TakeoverDuringADrainIsRefusedAndTheDrainGoesOn) {
  std::vector<std::string> flags = oldFlags(2);
  flags.push_back("--drain_timeout_s=60");
  ServerProcess old(flags);
  auto open = TestClient::connect(old.port());
  ASSERT_TRUE(open && open->sendAll("x") && open->readExactly(1) == "x");
  old.signal(SIGTERM);
  ASSERT_TRUE(old.waitForLog("draining", kWait));
  ServerProcess fresh(newFlags(2), /*wait_listening=*/false);
  EXPECT_EQ(fresh.waitExit(kWait), 1);
  EXPECT_NE(fresh.log().find("refused the takeover"), std::string::npos) << fresh.log();
  EXPECT_NE(fresh.log().find("draining"), std::string::npos) << fresh.log();
  // The drain is undisturbed: the open connection is served to its end, then exit 0.
  ASSERT_TRUE(open->sendAll("still here"));
  EXPECT_EQ(open->readExactly(10), "still here");
  open->shutdownWrite();
  bool closed = false;
  open->readUntilClosed(kWait, &closed);
  EXPECT_TRUE(closed);
  EXPECT_EQ(old.waitExit(kWait), 0);
  EXPECT_EQ(old.statsLine().at("takeovers_served"), "0");
}

TEST_F(TakeoverTest, BadPathsAreRejectedAtStart) {
  for (const std::string& flag : {"--control_socket=" + dir_ + "/", "--takeover_from=" + dir_ + "/",
                                  "--control_socket=" + dir_ + "/" + std::string(120, 'x')}) {
    const RunResult result = runReactord({flag});
    EXPECT_EQ(result.exit_code, 1) << flag;
    EXPECT_NE(result.output.find(flag.substr(0, flag.find('='))), std::string::npos)
        << result.output;
  }
}

}  // namespace
}  // namespace reactord::testing
