#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "client/shared/protocol.h"
#include "client/shared/proxy_header_option.h"
#include "common/socket_address.h"

namespace reactord::client {

enum class BenchMode {
  kPingPong,  // closed loop: each connection keeps --pipeline messages in flight
  kRate,      // open loop: --rate messages/s in total, latency from each intended send time
  kChurn,     // connect, one message, check the reply, half-close, wait for the close, repeat
  kBulk,      // each connection streams chunks of --message_bytes and reads them back
  kIdle,      // open --connections, verify each once, hold them idle, close
  kStall,     // send --message_bytes chunks as fast as the server takes them, never read (abuse)
};

std::optional<BenchMode> parseBenchMode(std::string_view name);
const char* benchModeName(BenchMode mode);

// Everything reactor-bench was asked to do, already validated. A value type.
struct BenchOptions {
  common::SocketAddress address;
  Protocol protocol = Protocol::kEcho;
  BenchMode mode = BenchMode::kPingPong;
  int threads = 1;
  int connections = 50;
  int message_bytes = 64;
  int pipeline = 1;
  double duration_s = 10;
  double warmup_s = 1;
  double rate = 0;          // messages/s in total, mode=rate only
  double connect_rate = 0;  // mode=churn: connects/s in total (open loop); 0 = closed loop
  int timeout_ms = 5000;
  int socket_buffer_bytes = 0;  // SO_SNDBUF and SO_RCVBUF of each connection; 0 = the kernel's
  bool progress = true;         // one line per second on stderr
  // A PROXY protocol header sent first on every connection (a server run with --proxy_protocol).
  ProxyHeaderOption proxy;
};

// When the phases of a run begin, on the CLOCK_MONOTONIC nanosecond scale of nowNanos(). For
// mode=idle the window ends when the runner asks the workers to drain, so window_end_ns is
// INT64_MAX.
struct BenchSchedule {
  int64_t start_ns = 0;
  int64_t window_start_ns = 0;
  int64_t window_end_ns = 0;
};

// CLOCK_MONOTONIC in nanoseconds. Any thread.
int64_t nowNanos();

}  // namespace reactord::client
