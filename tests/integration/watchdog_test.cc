// The loop watchdog against the real binary: one worker thread is stopped with ptrace while the
// others serve, and the test checks what an operator would see: the WARNING naming it (and its
// accept queue) within the miss threshold plus one check period, the gauges and counters in the
// stats line and /metrics matching the connections the test left in its queue, the other worker
// unaffected, the queued clients served once it resumes and the recovery line with the stall's
// length; --watchdog_kill_s aborting with that thread's stack; ListenOverflows with a small
// --backlog; and the exposition through the strict checker and promtool.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/listen_counters.h"
#include "tests/support/http_client.h"
#include "tests/support/metrics_scrape.h"
#include "tests/support/server_process.h"
#include "tests/support/stopped_thread.h"
#include "tests/support/test_client.h"

namespace reactord::testing {
namespace {

using std::chrono::duration;
using std::chrono::system_clock;
using Clock = std::chrono::steady_clock;

// The whole line of `log` containing `needle` (the first one), or "".
std::string lineWith(const std::string& log, const std::string& needle) {
  const size_t at = log.find(needle);
  if (at == std::string::npos) {
    return "";
  }
  const size_t begin = log.rfind('\n', at) + 1;  // npos + 1 == 0
  return log.substr(begin, log.find('\n', at) - begin);
}

// The time glog put at the start of `line` ("W20261201 22:35:35.655284 ..."), local time.
system_clock::time_point glogTime(const std::string& line) {
  std::tm tm{};
  int micros = 0;
  if (std::sscanf(line.c_str() + 1, "%4d%2d%2d %2d:%2d:%2d.%6d", &tm.tm_year, &tm.tm_mon,
                  &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &micros) != 7) {
    ADD_FAILURE() << "no glog time in: " << line;
    return {};
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  tm.tm_isdst = -1;
  return system_clock::from_time_t(std::mktime(&tm)) + std::chrono::microseconds(micros);
}

// The number after `label` in `line` ("... after a stall of 2.5 s" with label "stall of ").
double numberAfter(const std::string& line, const std::string& label) {
  const size_t at = line.find(label);
  return at == std::string::npos ? -1 : std::stod(line.substr(at + label.size()));
}

double millisBetween(system_clock::time_point from, system_clock::time_point to) {
  return duration<double, std::milli>(to - from).count();
}

// promtool's verdict on an exposition: its exit code and output.
std::pair<int, std::string> promtoolCheck(const std::string& text) {
  const std::string path = "/tmp/reactord-watch-metrics-" + std::to_string(getpid()) + ".txt";
  std::ofstream(path) << text;
  const std::string command = "promtool check metrics < " + path + " 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  std::string output;
  char buffer[512];
  while (pipe != nullptr && fgets(buffer, sizeof buffer, pipe) != nullptr) {
    output += buffer;
  }
  const int status = pipe != nullptr ? pclose(pipe) : -1;
  std::remove(path.c_str());
  return {status == -1 ? -1 : WEXITSTATUS(status), output};
}

// The worker's thread, once its loop has run a probe (so that its lags are being recorded).
pid_t workerThread(const ServerProcess& server, uint16_t admin, int worker) {
  const std::string label = std::to_string(worker);
  scrapeUntil(admin, [&](const PrometheusChecker& m) {
    return m.value("reactord_worker_loop_lag_seconds_count", {{"worker", label}}).value_or(0) > 0;
  });
  const auto tid = findThread(server.pid(), "reactord-w" + label);
  EXPECT_TRUE(tid.has_value());
  return tid.value_or(0);
}

struct Split {
  std::vector<TestClient> served;  // echoed at once: on a running worker
  std::vector<TestClient> queued;  // no answer: in the stalled worker's accept queue
};

// Opens `count` connections, each sending "ping", and tells them apart by whether the echo comes
// within 2.5 s (a running worker answers in milliseconds; a loaded machine may delay it by a
// fraction of a second).
Split connectAndSplit(uint16_t port, int count) {
  std::vector<TestClient> clients;
  for (int i = 0; i < count; ++i) {
    auto client = TestClient::connect(port);
    EXPECT_TRUE(client);
    if (client && client->sendAll("ping")) {
      clients.push_back(std::move(*client));
    }
  }
  Split split;
  const auto deadline = Clock::now() + std::chrono::milliseconds(2500);
  for (TestClient& client : clients) {
    const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
    const bool echoed = client.readExactly(4, std::max(left, milliseconds(0))) == "ping";
    (echoed ? split.served : split.queued).push_back(std::move(client));
  }
  return split;
}

TEST(WatchdogTest, AStalledWorkerIsNamedWithItsQueueAndRecovers) {
  // A miss threshold of 2 s: it leaves the test time to queue its connections before the WARNING
  // (so that the WARNING's count is all of them), and it is far above the delays a loaded 2-core
  // machine gives a thread (up to 0.7 s seen while two builds ran beside), so that only the test's
  // stall counts. The probes still run every 50 ms.
  constexpr int kMissMs = 2000;
  constexpr milliseconds kCheckPeriod{50};
  constexpr milliseconds kStall{4000};
  ServerProcess server(
      {"--workers=2", "--admin_port=-1", "--watchdog_miss_ms=2000", "--watchdog_megamiss_ms=3000"});
  const uint16_t admin = adminPort(server);
  ASSERT_NE(admin, 0);
  const pid_t tid = workerThread(server, admin, 1);
  ASSERT_NE(tid, 0);

  const auto wall_before_stop = system_clock::now();
  const auto before_stop = Clock::now();
  std::string error;
  std::unique_ptr<StoppedThread> stopped = StoppedThread::stop(tid, &error);
  ASSERT_NE(stopped, nullptr) << error;
  Split split = connectAndSplit(server.port(), 40);
  // 40 connections hashed over two listeners: both get some (all on one: 2 in 2^40).
  ASSERT_GE(split.queued.size(), 1u);
  ASSERT_GE(split.served.size(), 1u);
  const size_t queued = split.queued.size();

  // The WARNING, by the time the server logged it.
  const std::string stalled_needle = "watchdog: worker 1: loop not run for ";
  ASSERT_TRUE(server.waitForLog(stalled_needle, milliseconds(10000))) << server.log();
  const std::string stalled_line = lineWith(server.log(), stalled_needle);
  const double warned_after_ms = millisBetween(wall_before_stop, glogTime(stalled_line));
  // Within the miss threshold plus one check period; 700 ms more for the supervisor thread's own
  // scheduling on a loaded 2-core machine. Not before the threshold: the length it reports, by the
  // server's clock since the loop last ran, is past it.
  EXPECT_LE(warned_after_ms, kMissMs + kCheckPeriod.count() + 700) << stalled_line;
  EXPECT_GE(numberAfter(stalled_line, "loop not run for "), kMissMs / 1000.0) << stalled_line;
  EXPECT_EQ(stalled_line[0], 'W') << stalled_line;
  EXPECT_NE(stalled_line.find(", " + std::to_string(queued) +
                              " connections waiting in its accept "
                              "queue (thread " +
                              std::to_string(tid) + ")"),
            std::string::npos)
      << stalled_line << " (the test left " << queued << " in the queue)";

  // The stats line and /metrics while it is stalled.
  server.signal(SIGUSR1);
  ASSERT_TRUE(server.waitForLog("] stats ", milliseconds(5000)));
  auto stats = server.statsLine("stats");
  EXPECT_EQ(stats["worker_accept_queue"], "0," + std::to_string(queued))
      << stats["worker_accept_queue"];
  EXPECT_GE(statsList(stats["worker_accept_queue_max"])[1], static_cast<long>(queued));
  EXPECT_GE(statsList(stats["worker_loop_stalled_ms"])[1], kMissMs);
  EXPECT_EQ(statsList(stats["worker_loop_stalled_ms"])[0], 0);
  EXPECT_GE(statsList(stats["worker_loop_lag_max_ms"])[1], kMissMs);
  EXPECT_LT(statsList(stats["worker_loop_lag_max_ms"])[0], kMissMs);  // the other loop runs
  std::string text;
  const PrometheusChecker during = scrapeUntil(
      admin, [](const PrometheusChecker&) { return true; }, &text);
  EXPECT_EQ(during.value("reactord_worker_accept_queue_length", {{"worker", "1"}}),
            static_cast<double>(queued));
  EXPECT_EQ(during.value("reactord_worker_accept_queue_length", {{"worker", "0"}}), 0.0);
  EXPECT_GE(during.value("reactord_worker_loop_stalled_seconds", {{"worker", "1"}}).value_or(0),
            kMissMs / 1000.0);
  EXPECT_EQ(during.value("reactord_worker_loop_stalled_seconds", {{"worker", "0"}}), 0.0);
  const auto [promtool_exit, promtool_output] = promtoolCheck(text);
  EXPECT_EQ(promtool_exit, 0) << "promtool (deploy/install-deps.sh test installs Debian's "
                                 "prometheus package): "
                              << promtool_output;

  // Resume after the stall's length; the queued clients are served.
  std::this_thread::sleep_until(before_stop + kStall);
  stopped->resume();
  const double stall_s = duration<double>(Clock::now() - before_stop).count();
  for (TestClient& client : split.queued) {
    EXPECT_EQ(client.readExactly(4, milliseconds(10000)), "ping");
  }
  const std::string recovered_needle = "watchdog: worker 1: loop running again after a stall of ";
  ASSERT_TRUE(server.waitForLog(recovered_needle, milliseconds(10000))) << server.log();
  const std::string recovered_line = lineWith(server.log(), recovered_needle);
  // The probe due at most one period after the stop ran when the thread resumed: the stall less
  // up to one period, printed to 0.1 s; the resumed thread's scheduling adds a little.
  const double reported_s = numberAfter(recovered_line, "stall of ");
  EXPECT_GE(reported_s, stall_s - 0.05 - 0.05 - 0.1) << recovered_line;
  EXPECT_LE(reported_s, stall_s + 0.05 + 0.3) << recovered_line;
  EXPECT_NE(recovered_line.find("up to " + std::to_string(queued) + " connections waited"),
            std::string::npos)
      << recovered_line;

  const PrometheusChecker after = scrapeUntil(admin, [&](const PrometheusChecker& m) {
    return m.value("reactord_worker_accept_queue_length", {{"worker", "1"}}) == 0.0 &&
           m.value("reactord_worker_connections_accepted_total", {{"worker", "1"}}) ==
               static_cast<double>(queued);
  });
  EXPECT_EQ(after.value("reactord_worker_loop_misses_total", {{"worker", "1"}}), 1.0);
  EXPECT_EQ(after.value("reactord_worker_loop_mega_misses_total", {{"worker", "1"}}), 1.0);
  EXPECT_EQ(after.value("reactord_worker_loop_misses_total", {{"worker", "0"}}), 0.0);
  EXPECT_EQ(after.value("reactord_worker_connections_accepted_total", {{"worker", "1"}}),
            static_cast<double>(queued));
  EXPECT_EQ(after.value("reactord_worker_loop_stalled_seconds", {{"worker", "1"}}), 0.0);

  // For the record (quoted in the docs and the issue's closing note).
  std::cout << "stop " << stall_s << " s, " << queued << " queued, " << split.served.size()
            << " served at once\n"
            << stalled_line << "\n"
            << lineWith(server.log(), "] stats ") << "\n"
            << recovered_line << "\n"
            << "loop_misses{1}="
            << *after.value("reactord_worker_loop_misses_total", {{"worker", "1"}})
            << " loop_mega_misses{1}="
            << *after.value("reactord_worker_loop_mega_misses_total", {{"worker", "1"}})
            << " loop_misses{0}="
            << *after.value("reactord_worker_loop_misses_total", {{"worker", "0"}}) << "\n";
}

// The thread's SIGABRT is pending while it is stopped (Sig Pnd of /proc/PID/task/TID/status).
bool abortPending(pid_t pid, pid_t tid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/task/" + std::to_string(tid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("SigPnd:", 0) == 0) {
      return (std::stoull(line.substr(7), nullptr, 16) >> (SIGABRT - 1)) & 1;
    }
  }
  return false;
}

TEST(WatchdogTest, KillAbortsWithTheStalledThreadsStack) {
  ServerProcess server({"--workers=2", "--admin_port=-1", "--watchdog_kill_s=1"});
  const uint16_t admin = adminPort(server);
  ASSERT_NE(admin, 0);
  const pid_t tid = workerThread(server, admin, 1);
  ASSERT_NE(tid, 0);
  std::string error;
  std::unique_ptr<StoppedThread> stopped = StoppedThread::stop(tid, &error);
  ASSERT_NE(stopped, nullptr) << error;
  // The watchdog aims SIGABRT at the stalled thread; it is taken when the thread runs again.
  const auto deadline = Clock::now() + std::chrono::seconds(10);
  while (!abortPending(server.pid(), tid) && Clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(10));
  }
  ASSERT_TRUE(abortPending(server.pid(), tid)) << server.log();
  stopped->resume();
  EXPECT_EQ(server.waitExit(milliseconds(10000)), -SIGABRT) << server.log();
  const std::string log = server.log();
  EXPECT_NE(lineWith(log, "watchdog: worker 1: loop not run for ")[0], 'E')
      << "a WARNING first, at the miss threshold";
  const std::string kill_line = lineWith(log, "(--watchdog_kill_s=1)");
  EXPECT_EQ(kill_line.rfind("E", 0), 0u) << log;
  EXPECT_NE(kill_line.find("watchdog: worker 1: loop not run for "), std::string::npos) << log;
  EXPECT_NE(kill_line.find("aborting with the stack of thread " + std::to_string(tid)),
            std::string::npos)
      << log;
  // glog's failure handler, on the stalled thread: its stack is the worker's loop.
  const size_t dump = log.find("*** SIGABRT (@");
  ASSERT_NE(dump, std::string::npos) << log;
  EXPECT_NE(log.find("received by PID " + std::to_string(server.pid()), dump), std::string::npos);
  const std::string stack = log.substr(dump);
  EXPECT_NE(stack.find("reactord::server::Worker::run"), std::string::npos) << stack;
  EXPECT_NE(stack.find("event_base_loop"), std::string::npos) << stack;
  EXPECT_EQ(stack.find("Supervisor::run"), std::string::npos) << stack;
  std::cout << kill_line << "\n" << stack.substr(0, stack.find("\n", 600)) << "\n";
}

TEST(WatchdogTest, AFullAcceptQueueMovesListenOverflows) {
  ServerProcess server({"--workers=1", "--admin_port=-1", "--backlog=2"});
  const uint16_t admin = adminPort(server);
  ASSERT_NE(admin, 0);
  const pid_t tid = workerThread(server, admin, 0);
  ASSERT_NE(tid, 0);
  std::string error;
  const auto before = common::readListenCounters(&error);
  ASSERT_TRUE(before.has_value()) << error;
  std::unique_ptr<StoppedThread> stopped = StoppedThread::stop(tid, &error);
  ASSERT_NE(stopped, nullptr) << error;
  // Three fit (the kernel keeps one past the backlog); the others' SYNs are dropped and counted.
  std::vector<TestClient> clients;
  for (int i = 0; i < 8; ++i) {
    int connect_error = 0;
    if (auto client = TestClient::connectWithin(server.port(), milliseconds(200), &connect_error)) {
      clients.push_back(std::move(*client));
    }
  }
  EXPECT_EQ(clients.size(), 3u);
  const auto now = common::readListenCounters(&error);
  ASSERT_TRUE(now.has_value()) << error;
  ASSERT_GT(now->overflows, before->overflows);
  server.signal(SIGUSR1);
  ASSERT_TRUE(server.waitForLog("] stats ", milliseconds(5000)));
  auto stats = server.statsLine("stats");
  // The namespace's counter: other processes' overflows count too, never fewer than ours.
  EXPECT_GE(std::stol(stats["listen_overflows"]),
            static_cast<long>(now->overflows - before->overflows))
      << lineWith(server.log(), "] stats ");
  EXPECT_GE(std::stol(stats["listen_drops"]), std::stol(stats["listen_overflows"]));
  EXPECT_EQ(stats["accept_queue"], "3");
  EXPECT_EQ(stats["accept_queue_limit"], "2");
  const PrometheusChecker m = scrapeUntil(admin, [](const PrometheusChecker&) { return true; });
  EXPECT_GE(m.value("reactord_listen_overflows_total").value_or(0),
            static_cast<double>(now->overflows));
  std::cout << lineWith(server.log(), "] stats ") << "\n";
}

}  // namespace
}  // namespace reactord::testing
