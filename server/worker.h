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
#include "common/memory_account.h"
#include "common/stats.h"
#include "common/unique_fd.h"
#include "server/connection_limit.h"
#include "server/per_ip_limit.h"
#include "server/server_options.h"

namespace reactord::server {

class Connection;

// One reactor thread. Owns its event_base, its SO_REUSEPORT listening socket, every connection it
// accepted (a table indexed by fd), and the MemoryAccount of what they hold against its share of
// --max_buffered_bytes. Constructed and destroyed by Server on the main thread; start()/join() are
// main-thread-only, post(), stats() and memory() are thread-safe, and everything else runs on the
// worker's own thread, reached from other threads only through post().
//
// Overload: when what its connections hold crosses a mark of its share (OverloadMarks), the worker
// acts on its own, at once, without locks or messages: level 1 pauses reading from connections
// that hold pending output, level 2 stops watching the listener (new connections wait in the
// accept queue), level 3 closes (with a reset, right after the current callbacks) the connections
// holding output that have stalled longest and hold most, until use is under the close target. A
// worker that has not accepted for kStuckAcceptTicks closes the connections stalled that long,
// down to the reopening target, so that new clients get in; under pressure it accepts a few
// connections per event, so that the marks see what the new ones take before more come. Each
// action is logged and counted once per episode (closing: every round); the episode ends when use
// falls under the first mark's lower end, and once use is under a tenth of the share (the abusers
// are gone) the worker gives freed memory back to the system (malloc_trim).
class Worker {
 public:
  static constexpr size_t kScratchBytes = size_t{64} * 1024;  // one read, echo protocol
  static constexpr size_t kAckReadBytes =
      size_t{16} * 1024;                          // one read, ack protocol (17x in replies)
  static constexpr uint32_t kTicksPerSecond = 4;  // idle and linger clocks
  // TCP_NOTSENT_LOWAT of the listeners, inherited by every connection: the kernel takes no more
  // unsent bytes than this (plus the segment in progress) into a socket's send queue, so a client
  // that stops reading pins this much of kernel memory instead of the send buffer's autotuned
  // size (4 MiB here). Data in flight is not limited.
  static constexpr int kNotSentLowatBytes = 64 * 1024;
  // A worker that has stopped accepting this long closes the connections stalled this long.
  static constexpr uint32_t kStuckAcceptTicks = 2 * kTicksPerSecond;

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
  const common::WorkerStats& stats() const { return stats_; }
  // Thread-safe: this worker's share of the buffer budget, what it holds and its overload level.
  common::MemoryGauges memory() const;

  // Posted by the supervisor. beginDrain: accept what has completed in the accept queue (served,
  // not reset), then close the listening socket so that new connects are refused at once.
  void beginDrain();
  // Closes every connection (after one last try to send what is pending), counting them as
  // forced, and leaves the loop.
  void stop();

  // For the worker's connections (loop thread).
  event_base* base() const { return base_.get(); }
  const ServerOptions& options() const { return options_; }
  common::WorkerStats& stats() { return stats_; }
  char* scratch() { return scratch_.get(); }
  size_t readSize() const { return read_size_; }
  uint32_t tick() const { return tick_; }
  uint32_t idleTimeoutTicks() const { return idle_timeout_ticks_; }
  uint32_t writeTimeoutTicks() const { return write_timeout_ticks_; }
  uint32_t messageTimeoutTicks() const { return message_timeout_ticks_; }
  void removeConnection(int fd);
  // Memory (loop thread): the account connections charge, the pending output above which a
  // connection stops being read (--max_pending_bytes; 0 from overload level 1 on), the most an
  // echo connection's output buffer may hold, and whether the worker is past its first mark.
  common::MemoryAccount& account() { return account_; }
  size_t pauseAbove() const { return pause_above_; }
  size_t maxPendingCapacity() const { return options_.max_pending_bytes + kScratchBytes; }
  bool underPressure() const { return account_.level() > 0; }

 private:
  static void onAcceptable(int fd, short what, void* self);
  static void onWake(int fd, short what, void* self);
  static void onTick(int fd, short what, void* self);
  static void onAcceptRetry(int fd, short what, void* self);
  static void onMemoryCrossed(void* self);
  static void onOverload(int fd, short what, void* self);
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
  // Overload: sets the level the account's use calls for and acts on it at once (called by the
  // account when use crosses a mark, from wherever the memory was taken or given back).
  void applyOverload();
  void enterLevel(int level);
  void leaveLevel(int level);
  void setListening(bool on);
  // Closes connections holding output, stalled at least `min_stalled_ticks`, longest stalled
  // (then holding most) first, until use is under `target`.
  void closeRound(uint32_t min_stalled_ticks, uint64_t target);

  const int index_;
  const ServerOptions options_;
  const size_t read_size_;
  const uint32_t idle_timeout_ticks_;
  const uint32_t write_timeout_ticks_;
  const uint32_t message_timeout_ticks_;
  ConnectionLimit& limit_;
  PerIpLimit& per_ip_limit_;
  std::atomic<int>& listeners_open_;
  common::WorkerStats stats_;
  std::unique_ptr<char[]> scratch_;
  uint32_t tick_ = 0;
  common::MemoryAccount account_;  // declared before connections_: outlives them
  size_t pause_above_;
  bool accept_stopped_ = false;        // overload level 2 or more: the listener is not watched
  bool accept_retry_pending_ = false;  // after EMFILE and the like
  uint32_t accept_stopped_tick_ = 0;   // when accepting stopped, or the last close round since
  unsigned episode_actions_ = 0;       // bit k: level k+1's action began in this episode
  bool trim_pending_ = false;          // an episode ended: give memory back once use is low

  common::EventBasePtr base_;  // declared before every event and connection: destroyed last
  common::UniqueFd listen_fd_;
  common::UniqueFd wake_fd_;  // eventfd written by post()
  common::Event listen_event_;
  common::Event accept_retry_event_;  // re-enables accepting after EMFILE and the like
  common::Event wake_event_;
  common::Event tick_event_;
  common::Event overload_event_;  // activated when use reaches level 3: a close round
  std::vector<std::unique_ptr<Connection>> connections_;  // indexed by fd
  std::vector<IpKey> peers_;  // indexed by fd; only with --max_connections_per_ip
  size_t connection_count_ = 0;

  std::mutex tasks_mutex_;
  std::vector<std::function<void()>> tasks_;  // guarded by tasks_mutex_

  std::thread thread_;
  std::atomic<std::thread::id> loop_thread_id_;
};

}  // namespace reactord::server
