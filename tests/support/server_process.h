#pragma once

#include <sys/resource.h>
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

// What the child does between fork and exec, besides sending its stdout and stderr to the log.
struct ChildSetup {
  int open_file_limit = 0;  // RLIMIT_NOFILE, soft and hard; 0 = inherited
  // setgid/setuid to it (the same number for the group, as nobody/nogroup 65534); needs root.
  int run_as_uid = -1;
  std::vector<std::string> environment;  // NAME=VALUE entries added to the child's environment
  // Further limits (resource, value for soft and hard), set after setuid: RLIMIT_NPROC set before
  // it would make the kernel refuse the exec itself when that user already runs a process.
  std::vector<std::pair<int, rlim_t>> limits;
  bool close_stderr = false;  // exec with fd 2 closed (`2>&-`): the log gets stdout only
};

// The real reactord binary, started with --port=0 and the given flags; its stderr is collected by
// a reader thread. The destructor kills it if it still runs. Test-thread-only but log access.
class ServerProcess {
 public:
  // Starts the server as `setup` says; `wait_listening` as below.
  ServerProcess(std::vector<std::string> flags, const ChildSetup& setup,
                bool wait_listening = true);
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
RunResult runReactord(const std::vector<std::string>& flags, const ChildSetup& setup);

// CPU seconds (user + system) that the thread of process `pid` named `name` (its comm, as
// "reactord-admin") has used; -1 when there is no such thread.
double threadCpuSeconds(pid_t pid, const std::string& name);

// The admin port from the server's log line "admin listening on ADDR:PORT" (waited for up to
// 10 s); 0 when it never came.
uint16_t adminPort(const ServerProcess& server);

// The value of `key` ("VmRSS", "SigBlk", "Threads", ...) in /proc/PID/status, after its colon;
// nullopt once the process is gone.
std::optional<std::string> procStatusField(pid_t pid, const std::string& key);

// The key=value pairs of the last line in `log` that contains "] LABEL " (a glog stats line), empty
// if there is none. List values (worker_accepted=1,2) stay strings: see statsList().
std::map<std::string, std::string> parseStatsLine(const std::string& log, const std::string& label);
// Sockets in LISTEN state on `port`, from /proc/net/tcp and tcp6 (this network namespace).
int listenerCount(uint16_t port);
// The TCP ports process `pid` listens on (each once, sorted), from its descriptors' socket inodes
// and /proc/net/tcp and tcp6: for a server whose log cannot be read.
std::vector<uint16_t> listeningPorts(pid_t pid);

// A comma-separated stats value as numbers.
std::vector<long> statsList(const std::string& value);

}  // namespace reactord::testing
