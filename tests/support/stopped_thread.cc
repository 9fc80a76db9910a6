#include "tests/support/stopped_thread.h"

#include <dirent.h>
#include <sys/ptrace.h>
#include <sys/wait.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <thread>

namespace reactord::testing {
namespace {

using Clock = std::chrono::steady_clock;

std::string failure(const char* what, pid_t tid) {
  return std::string(what) + "(" + std::to_string(tid) + "): " + std::strerror(errno);
}

// Waits for a state change of the traced thread, polling so that a deadline holds; the status,
// or nullopt (errno set) on failure or timeout.
std::optional<int> waitTraced(pid_t tid, Clock::time_point deadline) {
  while (true) {
    int status = 0;
    const pid_t got = waitpid(tid, &status, __WALL | WNOHANG);
    if (got == tid) {
      return status;
    }
    if (got < 0 && errno != EINTR) {
      return std::nullopt;
    }
    if (Clock::now() >= deadline) {
      errno = ETIMEDOUT;
      return std::nullopt;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

}  // namespace

std::unique_ptr<StoppedThread> StoppedThread::stop(pid_t tid, std::string* error,
                                                   std::chrono::milliseconds timeout) {
  std::unique_ptr<StoppedThread> stopped(new StoppedThread(tid));
  if (ptrace(PTRACE_SEIZE, tid, nullptr, nullptr) != 0) {
    *error = failure("PTRACE_SEIZE", tid);
    return nullptr;
  }
  stopped->attached_ = true;  // from here the destructor detaches
  if (ptrace(PTRACE_INTERRUPT, tid, nullptr, nullptr) != 0) {
    *error = failure("PTRACE_INTERRUPT", tid);
    return nullptr;
  }
  const std::optional<int> status = waitTraced(tid, Clock::now() + timeout);
  if (!status) {
    *error = failure("waitpid", tid);
    return nullptr;
  }
  if (!WIFSTOPPED(*status)) {
    stopped->attached_ = false;  // it exited: nothing to detach from
    *error = "thread " + std::to_string(tid) + " exited instead of stopping";
    return nullptr;
  }
  if ((*status >> 16) == 0) {
    // Stopped for a signal it was about to take rather than by the interrupt: hand the signal
    // back on detach so that it is not lost.
    stopped->signal_on_resume_ = WSTOPSIG(*status);
  }
  stopped->stopped_at_ = Clock::now();
  return stopped;
}

StoppedThread::~StoppedThread() { resume(); }

void StoppedThread::resume() {
  if (!attached_) {
    return;
  }
  attached_ = false;
  if (ptrace(PTRACE_DETACH, tid_, nullptr, reinterpret_cast<void*>(intptr_t{signal_on_resume_})) ==
      0) {
    return;
  }
  // The thread is gone (its process was killed): reap what it left for its tracer.
  waitTraced(tid_, Clock::now() + std::chrono::seconds(1));
}

std::optional<pid_t> findThread(pid_t pid, const std::string& name) {
  const std::string tasks = "/proc/" + std::to_string(pid) + "/task";
  DIR* dir = opendir(tasks.c_str());
  if (dir == nullptr) {
    return std::nullopt;
  }
  std::optional<pid_t> found;
  while (const dirent* entry = readdir(dir)) {
    if (entry->d_name[0] == '.') {
      continue;
    }
    std::ifstream comm(tasks + "/" + entry->d_name + "/comm");
    std::string line;
    if (std::getline(comm, line) && line == name) {
      found = static_cast<pid_t>(std::stol(entry->d_name));
      break;
    }
  }
  closedir(dir);
  return found;
}

}  // namespace reactord::testing
