#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "common/event.h"
#include "common/event_base_ptr.h"
#include "common/unique_fd.h"
#include "server/connection_limit.h"
#include "server/loop_lag_probe.h"
#include "server/per_ip_limit.h"
#include "server/server_options.h"
#include "server/worker_stats.h"

namespace reactord::server {

class Connection;

// One reactor thread. Owns its event_base, its SO_REUSEPORT listening socket, and every connection
// it accepted (a table indexed by fd). Constructed and destroyed by Server on the main thread;
// start()/join() are main-thread-only, post() and stats() are thread-safe, and everything else runs
// on the worker's own thread, reached from other threads only through post().
class Worker {
 public:
  static constexpr size_t kScratchBytes = size_t{64} * 1024;  // one read, echo protocol
  static constexpr size_t kAckReadBytes =
      size_t{16} * 1024;                          // one read, ack protocol (17x in replies)
  static constexpr uint32_t kTicksPerSecond = 4;  // idle and linger clocks

  Worker(int index, const ServerOptions& options, common::UniqueFd listen_fd,
         ConnectionLimit& limit, PerIpLimit& per_ip_limit, std::atomic<int>& listeners_open);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Main-thread-only.
  void start();
  void join();

  // Thread-safe: runs `task` on the worker's thread, in order. The lock is held only to push; the
  // loop is woken only when the queue was empty. Tasks posted before start() run once it starts.
  void post(std::function<void()> task);
  // Thread-safe: counters written by this worker only.
  const WorkerStats& stats() const { return stats_; }
  // Thread-safe (its accessors are): how late this worker's loop runs.
  const LoopLagProbe& lagProbe() const { return lag_probe_; }

  // Posted by the supervisor. beginDrain: accept what has completed in the accept queue (served,
  // not reset), then close the listening socket so that new connects are refused at once.
  void beginDrain();
  // Closes every connection (after one last try to send what is pending), counting them as
  // forced, and leaves the loop.
  void stop();

  // For the worker's connections (loop thread).
  event_base* base() const { return base_.get(); }
  const ServerOptions& options() const { return options_; }
  WorkerStats& stats() { return stats_; }
  char* scratch() { return scratch_.get(); }
  size_t readSize() const { return read_size_; }
  uint32_t tick() const { return tick_; }
  uint32_t idleTimeoutTicks() const { return idle_timeout_ticks_; }
  uint32_t writeTimeoutTicks() const { return write_timeout_ticks_; }
  uint32_t messageTimeoutTicks() const { return message_timeout_ticks_; }
  void removeConnection(int fd);

 private:
  static void onAcceptable(int fd, short what, void* self);
  static void onWake(int fd, short what, void* self);
  static void onTick(int fd, short what, void* self);
  static void onAcceptRetry(int fd, short what, void* self);
  void run();
  void acceptBurst(int max_accepts);
  // Accepts one connection; false when the queue is empty or accepting had to pause.
  bool acceptOne();
  void adopt(common::UniqueFd fd, const sockaddr_storage& peer);
  void pauseAccepting();
  void closeListener();
  void runPostedTasks();
  void sweep();
  bool onLoopThread() const;

  const int index_;
  const ServerOptions options_;
  const size_t read_size_;
  const uint32_t idle_timeout_ticks_;
  const uint32_t write_timeout_ticks_;
  const uint32_t message_timeout_ticks_;
  ConnectionLimit& limit_;
  PerIpLimit& per_ip_limit_;
  std::atomic<int>& listeners_open_;
  WorkerStats stats_;
  std::unique_ptr<char[]> scratch_;
  uint32_t tick_ = 0;

  common::EventBasePtr base_;  // declared before every event and connection: destroyed last
  common::UniqueFd listen_fd_;
  common::UniqueFd wake_fd_;  // eventfd written by post()
  common::Event listen_event_;
  common::Event accept_retry_event_;  // re-enables accepting after EMFILE and the like
  common::Event wake_event_;
  common::Event tick_event_;
  LoopLagProbe lag_probe_;
  std::vector<std::unique_ptr<Connection>> connections_;  // indexed by fd
  std::vector<IpKey> peers_;  // indexed by fd; only with --max_connections_per_ip
  size_t connection_count_ = 0;

  std::mutex tasks_mutex_;
  std::vector<std::function<void()>> tasks_;  // guarded by tasks_mutex_

  std::thread thread_;
  std::atomic<std::thread::id> loop_thread_id_;
};

}  // namespace reactord::server
