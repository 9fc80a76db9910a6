// StoppedThread on a child process with two named threads that count in shared memory: stopping
// one freezes its count while the other's goes on, and resuming lets it count again.
#include "tests/support/stopped_thread.h"

#include <gtest/gtest.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <thread>

namespace reactord::testing {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

struct Counts {
  std::atomic<uint64_t> a{0};
  std::atomic<uint64_t> b{0};
};

// A child process whose threads "spin-a" and "spin-b" count as fast as they can; killed and
// reaped by the destructor.
class Spinners {
 public:
  Spinners() {
    void* shared =
        mmap(nullptr, sizeof(Counts), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    EXPECT_NE(shared, MAP_FAILED);
    counts_ = new (shared) Counts;
    pid_ = fork();
    if (pid_ == 0) {
      auto spin = [](const char* name, std::atomic<uint64_t>* count) {
        pthread_setname_np(pthread_self(), name);
        while (true) {
          count->fetch_add(1, std::memory_order_relaxed);
        }
      };
      std::thread(spin, "spin-a", &counts_->a).detach();
      std::thread(spin, "spin-b", &counts_->b).detach();
      while (true) {
        pause();
      }
    }
  }
  ~Spinners() {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    munmap(counts_, sizeof(Counts));
  }
  pid_t pid() const { return pid_; }
  const Counts& counts() const { return *counts_; }

 private:
  pid_t pid_ = -1;
  Counts* counts_ = nullptr;
};

bool waitFor(const std::function<bool()>& done) {
  const auto deadline = Clock::now() + std::chrono::seconds(10);
  while (!done()) {
    if (Clock::now() >= deadline) {
      return false;
    }
    std::this_thread::sleep_for(milliseconds(5));
  }
  return true;
}

TEST(StoppedThreadTest, StopsOneThreadWhileTheOthersRun) {
  Spinners child;
  std::optional<pid_t> a;
  // Each thread names itself once it runs.
  ASSERT_TRUE(waitFor([&] {
    return (a = findThread(child.pid(), "spin-a")).has_value() &&
           findThread(child.pid(), "spin-b").has_value();
  }));
  EXPECT_FALSE(findThread(child.pid(), "spin-c").has_value());
  ASSERT_TRUE(waitFor([&] { return child.counts().a.load() > 0; }));

  std::string error;
  std::unique_ptr<StoppedThread> stopped = StoppedThread::stop(*a, &error);
  ASSERT_NE(stopped, nullptr) << error;
  EXPECT_EQ(stopped->tid(), *a);
  const uint64_t a_frozen = child.counts().a.load();
  const uint64_t b_before = child.counts().b.load();
  // The other thread goes on; this one does not move at all.
  ASSERT_TRUE(waitFor([&] { return child.counts().b.load() > b_before + 1000000; }));
  std::this_thread::sleep_for(milliseconds(50));
  EXPECT_EQ(child.counts().a.load(), a_frozen);

  stopped->resume();
  EXPECT_TRUE(waitFor([&] { return child.counts().a.load() > a_frozen; }));
  stopped->resume();  // idempotent
}

TEST(StoppedThreadTest, TheDestructorResumes) {
  Spinners child;
  std::optional<pid_t> b;
  ASSERT_TRUE(waitFor([&] { return (b = findThread(child.pid(), "spin-b")).has_value(); }));
  uint64_t frozen = 0;
  {
    std::string error;
    const auto stopped = StoppedThread::stop(*b, &error);
    ASSERT_NE(stopped, nullptr) << error;
    frozen = child.counts().b.load();
    std::this_thread::sleep_for(milliseconds(20));
    EXPECT_EQ(child.counts().b.load(), frozen);
  }
  EXPECT_TRUE(waitFor([&] { return child.counts().b.load() > frozen; }));
}

TEST(StoppedThreadTest, ANonexistentThreadIsAnError) {
  std::string error;
  EXPECT_EQ(StoppedThread::stop(0x3ffffff0, &error), nullptr);
  EXPECT_NE(error.find("PTRACE_SEIZE"), std::string::npos) << error;
}

}  // namespace
}  // namespace reactord::testing
