#pragma once

#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <chrono>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/server_process.h"
#include "tests/support/test_client.h"

namespace reactord::testing {

using Clock = std::chrono::steady_clock;
using std::chrono::seconds;

inline double secondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Polls `condition` every 10 ms until it holds or `timeout` passes; its last value.
inline bool waitUntil(const std::function<bool()>& condition, milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (!condition()) {
    if (Clock::now() >= deadline) {
      return false;
    }
    std::this_thread::sleep_for(milliseconds(10));
  }
  return true;
}

// A numeric key of a stats line, -1 if missing.
inline long statOf(const std::map<std::string, std::string>& line, const std::string& key) {
  const auto it = line.find(key);
  return it == line.end() ? -1 : std::stol(it->second);
}

// The state letter of process `pid` (R, S, T for stopped, ...), from /proc/PID/stat.
inline char processState(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  const size_t paren = text.rfind(')');
  return paren == std::string::npos || paren + 2 >= text.size() ? '?' : text[paren + 2];
}

// The uid (and gid) of nobody/nogroup, for runs as a user without privileges.
constexpr int kNobody = 65534;

// True when a user with no rights of owner or group can run `path`: every directory on the way is
// searchable by others and the file executable by them.
inline bool othersCanExecute(const std::string& path) {
  for (size_t slash = path.find('/', 1); slash != std::string::npos;
       slash = path.find('/', slash + 1)) {
    struct stat info {};
    if (stat(path.substr(0, slash).c_str(), &info) != 0 || !(info.st_mode & S_IXOTH)) {
      return false;
    }
  }
  struct stat info {};
  return stat(path.c_str(), &info) == 0 && (info.st_mode & S_IXOTH);
}

// SIGTERM, then the exit code; the `final` line is in server.log() afterwards.
inline std::optional<int> stopServer(ServerProcess& server, milliseconds timeout = seconds(10)) {
  server.signal(SIGTERM);
  return server.waitExit(timeout);
}

// Sends `data` on every client without reading, each as far as the kernel and the server take
// it, until none has taken a byte for `quiet`. The server's RSS is sampled meanwhile: its peak.
inline long sendAllWithoutReading(std::vector<TestClient>& clients, const std::string& data,
                                  const ServerProcess& server, milliseconds quiet,
                                  uint64_t* total_sent) {
  std::vector<size_t> sent(clients.size(), 0);
  std::vector<pollfd> fds(clients.size());
  long peak_rss_kb = server.rssKb();
  auto last_progress = Clock::now();
  auto next_sample = Clock::now();
  while (Clock::now() - last_progress < quiet) {
    for (size_t i = 0; i < clients.size(); ++i) {
      fds[i] = {sent[i] < data.size() ? clients[i].fd() : -1, POLLOUT, 0};
    }
    if (poll(fds.data(), fds.size(), 50) > 0) {
      for (size_t i = 0; i < clients.size(); ++i) {
        if (fds[i].revents & POLLOUT) {
          const ssize_t n = ::send(clients[i].fd(), data.data() + sent[i], data.size() - sent[i],
                                   MSG_NOSIGNAL | MSG_DONTWAIT);
          if (n > 0) {
            sent[i] += n;
            *total_sent += n;
            last_progress = Clock::now();
          }
        }
      }
    }
    if (Clock::now() >= next_sample) {
      peak_rss_kb = std::max(peak_rss_kb, server.rssKb());
      next_sample = Clock::now() + milliseconds(100);
    }
  }
  return std::max(peak_rss_kb, server.rssKb());
}

}  // namespace reactord::testing
