#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/listen_socket.h"
#include "server/takeover.h"

namespace reactord::server {

// The old process's side of a takeover, for tests: `listeners` SO_REUSEPORT listeners on
// 127.0.0.1, a port picked by the kernel. Thread-safe where TakeoverHost is called from a
// session thread.
class FakeTakeoverHost : public TakeoverHost {
 public:
  explicit FakeTakeoverHost(int listeners) {
    address_ = *common::SocketAddress::parse("127.0.0.1", 0);
    for (int i = 0; i < listeners; ++i) {
      common::ListenResult result = common::openListenSocket(address_, 64, true);
      EXPECT_TRUE(result.fd.valid()) << result.error;
      if (i == 0) {
        address_.setPort(common::SocketAddress::localOf(result.fd.get())->port());
      }
      fds_.push_back(std::move(result.fd));
    }
  }
  std::optional<std::string> refusal() override {
    std::lock_guard<std::mutex> lock(mutex_);
    return refusal_;
  }
  void refuseWith(std::string reason) {
    std::lock_guard<std::mutex> lock(mutex_);
    refusal_ = std::move(reason);
  }
  std::vector<common::UniqueFd> duplicateListeners(common::SocketAddress* address) override {
    *address = address_;
    std::vector<common::UniqueFd> copies;
    for (const common::UniqueFd& fd : fds_) {
      copies.emplace_back(fcntl(fd.get(), F_DUPFD_CLOEXEC, 0));
    }
    return copies;
  }
  void stopAccepting() override { stopped_ = true; }

  common::SocketAddress address_;
  std::vector<common::UniqueFd> fds_;  // the test thread's, before and after a session
  std::atomic<bool> stopped_{false};

 private:
  std::mutex mutex_;
  std::optional<std::string> refusal_;  // guarded by mutex_
};

}  // namespace reactord::server
