#include "common/task_queue.h"

#include <glog/logging.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

namespace reactord::common {

TaskQueue::TaskQueue() : wake_fd_(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
  if (!wake_fd_.valid()) {
    error_ = errno;
  }
}

void TaskQueue::post(std::function<void()> task) {
  bool was_empty;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    was_empty = tasks_.empty();
    tasks_.push_back(std::move(task));
  }
  if (was_empty) {
    const uint64_t one = 1;
    PCHECK(::write(wake_fd_.get(), &one, sizeof one) == sizeof one || errno == EAGAIN)
        << "waking a task queue";
  }
}

void TaskQueue::runAll() {
  uint64_t count;
  // Read the wake-up before taking the queue: a post after this read either finds the queue not
  // yet swapped (and is run below) or empty (and wakes the consumer again).
  (void)::read(wake_fd_.get(), &count, sizeof count);
  std::vector<std::function<void()>> tasks;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    tasks.swap(tasks_);
  }
  for (auto& task : tasks) {
    task();
  }
}

}  // namespace reactord::common
