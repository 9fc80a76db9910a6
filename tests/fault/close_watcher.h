#pragma once

#include <poll.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace reactord::testing {

// Times when each of a set of sockets is closed or reset by its peer, from a thread of its own
// that sleeps in poll(): a wake-up is scheduled at once even when the machine is busy, so the
// times do not depend on how often the test's own loop gets to run. Nothing is read. The
// constructor and closedAfter() are test-thread-only.
class CloseWatcher {
 public:
  explicit CloseWatcher(std::vector<int> fds)
      : fds_(std::move(fds)), closed_at_(fds_.size()), thread_([this] { run(); }) {}
  ~CloseWatcher() {
    stop_ = true;
    thread_.join();
  }

  // Seconds from `start` to each close, -1 for the ones still open.
  std::vector<double> closedAfter(std::chrono::steady_clock::time_point start) {
    std::lock_guard<std::mutex> lock(mutex_);
    std::vector<double> result;
    for (const auto& at : closed_at_) {
      result.push_back(at ? std::chrono::duration<double>(*at - start).count() : -1.0);
    }
    return result;
  }

 private:
  void run() {
    std::vector<pollfd> polled(fds_.size());
    for (size_t i = 0; i < fds_.size(); ++i) {
      polled[i] = {fds_[i], POLLRDHUP, 0};
    }
    size_t open = fds_.size();
    while (!stop_ && open > 0) {
      if (poll(polled.data(), polled.size(), 50) <= 0) {
        continue;
      }
      const auto now = std::chrono::steady_clock::now();
      std::lock_guard<std::mutex> lock(mutex_);
      for (size_t i = 0; i < polled.size(); ++i) {
        if (polled[i].revents & (POLLRDHUP | POLLHUP | POLLERR)) {
          closed_at_[i] = now;
          polled[i].fd = -1;
          --open;
        }
      }
    }
  }

  const std::vector<int> fds_;
  std::mutex mutex_;
  std::vector<std::optional<std::chrono::steady_clock::time_point>> closed_at_;  // by mutex_
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace reactord::testing
