#pragma once

#include <functional>
#include <mutex>
#include <vector>

#include "common/unique_fd.h"

namespace reactord::common {

// Tasks handed to one thread by others: the consumer watches fd() (an eventfd; readable when tasks
// wait) in its loop and calls runAll(). post() holds the lock only to push, and wakes the consumer
// only when the queue was empty; runAll() swaps the queue under the lock and runs it outside
// (muduo's runInLoop). post() is thread-safe; runAll() is for the consumer thread only.
class TaskQueue {
 public:
  // Makes the eventfd; when that fails (no descriptor left), valid() is false and error() is the
  // errno, and the queue must not be used.
  TaskQueue();
  bool valid() const { return wake_fd_.valid(); }
  int error() const { return error_; }
  int fd() const { return wake_fd_.get(); }

  void post(std::function<void()> task);
  // Runs every task posted before this call, in order; a task posted meanwhile runs next time.
  void runAll();

 private:
  UniqueFd wake_fd_;
  int error_ = 0;
  std::mutex mutex_;
  std::vector<std::function<void()>> tasks_;  // guarded by mutex_
};

}  // namespace reactord::common
