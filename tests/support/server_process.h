#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace reactord::testing {

using std::chrono::milliseconds;

// Memory bounds in tests are multiplied by this: sanitizer runtimes (shadow memory, quarantine,
// per-thread state) make the same server use more. 1 in a normal build.
#if defined(REACTORD_SANITIZE_THREAD)
constexpr long kSanitizerMemoryFactor = 4;
#elif defined(REACTORD_SANITIZE_ADDRESS)
constexpr long kSanitizerMemoryFactor = 3;
#else
constexpr long kSanitizerMemoryFactor = 1;
#endif

// The real reactord binary, started with --port=0 and the given flags; its stderr is collected by
// a reader thread. The destructor kills it if it still runs. Test-thread-only but log access.
class ServerProcess {
 public:
  // Starts the server and waits (up to 10 s) for its "listening on" line, unless `wait_listening`
  // is false (for runs that are meant to fail). A non-zero `open_file_limit` sets the server's
  // RLIMIT_NOFILE (soft and hard) before it starts.
  // A non-negative `run_as_uid` makes the child setgid/setuid to it (same number for the group,
  // as nobody/nogroup 65534) before exec; the caller must be root. `environment` entries
  // (NAME=VALUE) are added to the child's environment.
  explicit ServerProcess(std::vector<std::string> flags, bool wait_listening = true,
                         int open_file_limit = 0, int run_as_uid = -1,
                         const std::vector<std::string>& environment = {});
  ~ServerProcess();

  uint16_t port() const { return port_; }
  pid_t pid() const { return pid_; }
  void signal(int signal_number) const;
  // The exit code, or nullopt if it did not exit within `timeout` (-signal if killed by one).
  // Once it returns a code, log() holds everything the server wrote.
  std::optional<int> waitExit(milliseconds timeout);
  // Thread-safe: everything the server wrote to stderr so far.
  std::string log() const;
  bool waitForLog(const std::string& needle, milliseconds timeout) const;
  // True once the server closed its output (it exited, normally).
  bool waitForOutputEnd(milliseconds timeout) const;
  // Resident memory of the server, from /proc/PID/status, in KiB.
  long rssKb() const;
  // CPU time the server has used so far (user + system), in seconds.
  double cpuSeconds() const;
  // Open file descriptors of the server, from /proc/PID/fd (-1 if it is gone).
  int fdCount() const;
  // The server's blocked-signal mask (SigBlk of /proc/PID/status), read once; bit N-1 stands for
  // signal N. A blocked signal is queued for the supervisor instead of killing the process by its
  // default action. 0 once the process is gone.
  uint64_t blockedSignals() const;
  // The admin endpoint's port, from the log line "admin listening on ADDR:PORT" (for servers run
  // with --admin_port=-1); 0 when that line does not come within 10 s.
  uint16_t adminPort() const;
  // The keys of the server's last stats line labelled `label` ("final" or "stats").
  std::map<std::string, std::string> statsLine(const std::string& label = "final") const;

 private:
  void readLog(int fd);

  pid_t pid_ = -1;
  uint16_t port_ = 0;
  bool exited_ = false;
  mutable std::mutex log_mutex_;
  mutable std::condition_variable log_changed_;
  std::string log_;            // guarded by log_mutex_
  bool output_ended_ = false;  // guarded by log_mutex_
  std::thread reader_;
};

// Stops `server` with SIGTERM, expects exit code 0 within 15 s, and returns the numbers of its
// final stats line (the list values, worker_active=1,2, left out).
std::map<std::string, long> stopAndCountFinal(ServerProcess& server);

// Runs reactord (after --port=0 --stats_interval_s=0, which `flags` may override) to completion,
// for flag errors, --help, --version: exit code and combined output. Gives up after 10 s (exit
// code -1000).
struct RunResult {
  int exit_code = -1;
  std::string output;
};
RunResult runReactord(const std::vector<std::string>& flags, int run_as_uid = -1,
                      const std::vector<std::string>& environment = {});

// The value of `key` ("VmRSS", "SigBlk", "Threads", ...) in /proc/PID/status, after its colon;
// nullopt once the process is gone.
std::optional<std::string> procStatusField(pid_t pid, const std::string& key);

// The key=value pairs of the last line in `log` that contains "] LABEL " (a glog stats line), empty
// if there is none. List values (worker_accepted=1,2) stay strings: see statsList().
std::map<std::string, std::string> parseStatsLine(const std::string& log, const std::string& label);
// Sockets in LISTEN state on `port`, from /proc/net/tcp and tcp6 (this network namespace).
int listenerCount(uint16_t port);

// A comma-separated stats value as numbers.
std::vector<long> statsList(const std::string& value);

}  // namespace reactord::testing
