#pragma once

#include <sys/socket.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/event.h"
#include "common/event_base_ptr.h"
#include "common/memory_account.h"
#include "common/task_queue.h"
#include "common/unique_fd.h"
#include "server/connection.h"
#include "server/connection_context.h"
#include "server/connection_limit.h"
#include "server/listener.h"
#include "server/loop_lag_probe.h"
#include "server/per_ip_limit.h"
#include "server/proxy_header_reader.h"
#include "server/server_options.h"
#include "server/worker_stats.h"

namespace reactord::server {

// What a worker reports while the server drains. Thread-safe: each worker calls it on its own
// thread, once per drain for each of the two events.
class DrainObserver {
 public:
  // Worker `worker` accepted what was queued and closed its listeners.
  virtual void listenersClosed(int worker) = 0;
  // After its listeners closed, worker `worker` has no connection left.
  virtual void connectionsGone(int worker) = 0;

 protected:
  ~DrainObserver() = default;
};

// One reactor thread. Owns its event_base, every connection it accepted (a table indexed by fd),
// with --proxy_protocol the accepted sockets whose PROXY header is still awaited (another table
// indexed by fd), and the MemoryAccount of what they hold against its share of
// --max_buffered_bytes; accepts from one or more Listeners, which the WorkerGroup owns. Constructed
// and destroyed by the WorkerGroup on the main thread; start()/join() are main-thread-only, post(),
// stats(), memory() and lagProbe() are thread-safe, and everything else runs on the worker's own
// thread, reached from other threads only through post().
//
// Overload: when what its connections hold crosses a mark of its share (OverloadMarks), the worker
// acts on its own, at once, without locks or messages: level 1 pauses reading from connections
// that hold pending output, level 2 stops watching its listeners (new connections wait in the
// accept queues), level 3 closes (with a reset, right after the current callbacks) the connections
// holding output that have stalled longest and hold most, until use is under the close target. A
// worker that has not accepted for kStuckAcceptTicks closes the connections stalled that long,
// down to the reopening target, so that new clients get in; under pressure it accepts a few
// connections per event, so that the marks see what the new ones take before more come. Each
// action is logged and counted once per episode (closing: every round); the episode ends when use
// falls under the first mark's lower end, and once use is under a tenth of the share (the abusers
// are gone) the worker gives freed memory back to the system (malloc_trim).
class Worker final : private ConnectionOwner, private ProxyHeaderOwner {
 public:
  // A worker that has stopped accepting this long closes the connections stalled this long.
  static constexpr uint32_t kStuckAcceptTicks = 2 * kTicksPerSecond;

  // Main-thread-only: a worker with its event loop and wake-up eventfd, or null with `error` saying
  // what could not be made (descriptors, memory) and what to change.
  static std::unique_ptr<Worker> create(int index, const ServerOptions& options,
                                        std::vector<Listener*> listeners, ConnectionLimit& limit,
                                        PerIpLimit& per_ip_limit, DrainObserver& drain_observer,
                                        std::string* error);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Main-thread-only. start() returns false with `error` when the thread cannot be created.
  bool start(std::string* error);
  void join();

  // Thread-safe: runs `task` on the worker's thread, in order. Tasks posted before start() run
  // once it starts.
  void post(std::function<void()> task) { tasks_.post(std::move(task)); }
  // Thread-safe: counters written by this worker only.
  const WorkerStats& stats() const { return stats_; }
  // Thread-safe: this worker's share of the buffer budget, what it holds and its overload level.
  MemoryGauges memory() const;
  // Thread-safe (its accessors are): how late this worker's loop runs.
  const LoopLagProbe& lagProbe() const { return lag_probe_; }
  // Thread-safe: the listeners this worker accepts from (owned by the WorkerGroup).
  const std::vector<Listener*>& listeners() const { return listener_list_; }

  // Posted by the WorkerGroup. beginDrain: accept what has completed in the accept queues
  // (served, not reset), then close the listeners so that new connects are refused at once; report
  // both drain events to the observer as they happen.
  void beginDrain();
  // Closes every connection (after one last try to send what is pending), counting them as
  // forced, and leaves the loop.
  void stop();
  // Posted by the WorkerGroup after another process took the listeners over: stops accepting at
  // once, without taking in what is queued (the sockets and their queues are the new process's
  // now), and closes this process's descriptors of them, which leaves the sockets open.
  void stopAccepting();

 private:
  // One listener as this worker serves it: its accept event.
  struct ListenerSlot {
    Worker* worker;
    Listener* listener;
    common::Event event;
  };
  // Makes the protocol's connection, its first read being `size` bytes at `data` (when not 0).
  using ConnectionFactory = std::unique_ptr<Connection> (*)(const ConnectionContext&,
                                                            common::UniqueFd, const IpKey&,
                                                            const char* data, size_t size);

  Worker(int index, const ServerOptions& options, common::EventBasePtr base,
         std::vector<Listener*> listeners, ConnectionLimit& limit, PerIpLimit& per_ip_limit,
         DrainObserver& drain_observer);
  static void onAcceptable(int fd, short what, void* slot);
  static void onWake(int fd, short what, void* self);
  static void onTick(int fd, short what, void* self);
  static void onAcceptRetry(int fd, short what, void* self);
  static void onMemoryCrossed(void* self);
  static void onOverload(int fd, short what, void* self);
  void run();
  void acceptBurst(ListenerSlot& slot, int max_accepts);
  // Accepts one connection; false when the queue is empty or accepting had to pause.
  bool acceptOne(ListenerSlot& slot);
  // A new socket: takes a --max_connections slot, then reads its PROXY header first or admits it.
  void adopt(common::UniqueFd fd, const sockaddr_storage& peer);
  // Makes the connection of a socket that holds a --max_connections slot, for `client` (the
  // per-address limit's key), `size` bytes at `data` being its first read.
  void admit(common::UniqueFd fd, const sockaddr_storage& client, const char* data, size_t size);
  // With --proxy_protocol: a trusted source's socket waits for its header in a ProxyHeaderReader.
  void readProxyHeader(common::UniqueFd fd, const sockaddr_storage& peer);
  void proxyHeaderDone(ProxyHeaderReader& reader, const char* data, size_t size) override;
  void proxyHeaderFailed(ProxyHeaderReader& reader) override;
  void removeReader(int fd);
  void connectionFinished(Connection& connection) override;
  void removeConnection(int fd);
  void pauseAccepting();
  void closeListeners();
  void reportIfDrained();
  void sweep();
  bool onLoopThread() const;
  // Overload: sets the level the account's use calls for and acts on it at once (called by the
  // account when use crosses a mark, from wherever the memory was taken or given back).
  void applyOverload();
  void enterLevel(int level);
  void leaveLevel(int level);
  // Watches the listeners unless accepting is stopped (overload) or paused (EMFILE and the like).
  void setListening(bool on);
  // Closes connections holding output, stalled at least `min_stalled_ticks`, longest stalled
  // (then holding most) first, until use is under `target`.
  void closeRound(uint32_t min_stalled_ticks, uint64_t target);

  const int index_;
  const ServerOptions options_;
  ConnectionLimit& limit_;
  PerIpLimit& per_ip_limit_;
  DrainObserver& drain_observer_;
  const ConnectionFactory make_connection_;  // the protocol, chosen once
  const size_t read_bytes_;                  // one read of that protocol
  const uint32_t header_timeout_ticks_;      // --proxy_header_timeout_s
  WorkerStats stats_;
  std::unique_ptr<char[]> scratch_;
  uint32_t tick_ = 0;
  common::MemoryAccount account_;  // declared before connections_: outlives them
  ConnectionContext context_;
  bool accept_stopped_ = false;        // overload level 2 or more: the listeners are not watched
  bool accept_retry_pending_ = false;  // after EMFILE and the like
  uint32_t accept_stopped_tick_ = 0;   // when accepting stopped, or the last close round since
  unsigned episode_actions_ = 0;       // bit k: level k+1's action began in this episode
  bool trim_pending_ = false;          // an episode ended: give memory back once use is low

  common::EventBasePtr base_;  // declared before every event and connection: destroyed last
  common::TaskQueue tasks_;
  const std::vector<Listener*> listener_list_;
  std::vector<std::unique_ptr<ListenerSlot>> listeners_;
  common::Event accept_retry_event_;  // re-enables accepting after EMFILE and the like
  common::Event wake_event_;
  common::Event tick_event_;
  common::Event overload_event_;  // activated when use reaches level 3: a close round
  LoopLagProbe lag_probe_;
  std::vector<std::unique_ptr<Connection>> connections_;  // indexed by fd
  size_t connection_count_ = 0;
  std::vector<std::unique_ptr<ProxyHeaderReader>> readers_;  // indexed by fd; --proxy_protocol
  size_t reader_count_ = 0;
  bool draining_ = false;
  bool reported_gone_ = false;

  std::thread thread_;
  std::atomic<std::thread::id> loop_thread_id_;
};

}  // namespace reactord::server
