#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>

namespace reactord::testing {

// One thread of another process, stopped, while the rest of that process runs on: for tests that
// stall a single worker (SIGSTOP would stop the whole process). Made with ptrace: PTRACE_SEIZE
// attaches to that thread alone, PTRACE_INTERRUPT stops it, waitpid(tid, __WALL) sees it stopped;
// the destructor (or resume()) detaches, which lets it run again. Signals sent to the thread while
// it is stopped stay pending and are delivered once it runs.
//
// Needs ptrace rights over the process (root, or the same uid without Yama's restriction).
// Thread-affine: ptrace requests must come from the thread that attached, so make, resume and
// destroy it on one test thread. Destroy it before the process is killed and reaped (declare it
// after the ServerProcess): an exited tracee must be reaped by its tracer before its process's
// parent can reap the process.
class StoppedThread {
 public:
  // Stops thread `tid` and waits until it is stopped (at most `timeout`). nullptr with `error`
  // (the failing call and its errno text) when it cannot.
  static std::unique_ptr<StoppedThread> stop(
      pid_t tid, std::string* error,
      std::chrono::milliseconds timeout = std::chrono::milliseconds(10000));
  ~StoppedThread();
  StoppedThread(const StoppedThread&) = delete;
  StoppedThread& operator=(const StoppedThread&) = delete;

  // Lets the thread run again (detaches); idempotent.
  void resume();
  pid_t tid() const { return tid_; }
  // When it was seen stopped.
  std::chrono::steady_clock::time_point stoppedAt() const { return stopped_at_; }

 private:
  explicit StoppedThread(pid_t tid) : tid_(tid) {}

  const pid_t tid_;
  std::chrono::steady_clock::time_point stopped_at_;
  bool attached_ = false;
  int signal_on_resume_ = 0;
};

// The kernel id of the thread of process `pid` whose name (/proc/PID/task/TID/comm) is `name`,
// or nullopt when there is none.
std::optional<pid_t> findThread(pid_t pid, const std::string& name);

}  // namespace reactord::testing
