#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "common/cidr_list.h"
#include "common/wire_protocol.h"

namespace reactord::server {

using common::Protocol;

enum class StatsFormat {
  kText,  // key=value
  kJson,  // one JSON object per line, the same keys
};

// --admin_port value that binds the admin endpoint to any free port (0 is "off").
inline constexpr int kAdminAnyPort = -1;

// Everything the server needs from the command line, as plain values. Built once by flags.cc;
// read-only afterwards, so any thread may read it.
struct ServerOptions {
  std::string bind = "0.0.0.0";
  uint16_t port = 7000;
  int workers = 1;  // resolved: never 0 here
  Protocol protocol = Protocol::kEcho;
  bool oneshot = false;  // answer the first read as if the client had half-closed, then close
  int backlog = 4096;
  uint64_t max_connections = 0;  // process-wide; 0 = unlimited
  size_t max_pending_bytes = size_t{256} * 1024;
  size_t max_message_bytes = size_t{64} * 1024;
  int idle_timeout_s = 0;  // 0 = off
  int drain_timeout_s = 5;
  int drain_delay_s = 0;                // not ready but still accepting, before the drain; 0 = none
  int stats_interval_s = 10;            // 0 = only the final line
  uint32_t max_connections_per_ip = 0;  // process-wide; 0 = unlimited
  int write_timeout_s = 0;              // pending output that has not moved; 0 = off
  int message_timeout_s = 0;            // ack: a message unfinished this long; 0 = off
  // The PROXY protocol: every connection begins with a header from a trusted balancer.
  bool proxy_protocol = false;
  common::CidrList proxy_protocol_from;  // the balancers; empty trusts no one
  int proxy_header_timeout_s = 3;
  // The admin endpoint and the stats line's format.
  int admin_port = 0;  // 0 = off; kAdminAnyPort = any free port (the log says which)
  std::string admin_bind = "127.0.0.1";
  uint32_t admin_max_connections = 16;  // open at once; one more is answered 503 and closed
  int admin_timeout_s = 10;             // the longest life of an admin connection, from accept
  StatsFormat stats_format = StatsFormat::kText;
  // Listening-socket takeover: this process's control socket ("" = none), and the control socket
  // of the process to take the listeners from ("" = open them).
  std::string control_socket;
  std::string takeover_from;
  bool takeover_optional = false;  // nothing listening at takeover_from: start normally
  // Refuse to start on a port where something listens already (a second instance would silently
  // share its traffic through SO_REUSEPORT). Always on in reactord; off only in a test build that
  // compares upgrade methods (tests/deploy/CMakeLists.txt).
  bool check_busy_port = true;
  // Where to tell a health checker in the same container how to reach us ("" = off).
  std::string status_file;
  std::string workers_source = "--workers";  // how `workers` was chosen: for logs and /metrics
  // The memory budget: what clients may make the server hold in all, shared out evenly among the
  // workers (resolved: never 0 here), and the memory limit it was derived from.
  uint64_t max_buffered_bytes = uint64_t{128} << 20;
  uint64_t memory_limit_bytes = 0;
  std::string memory_limit_source;
  // The loop watchdog: a loop-lag probe later than these is a miss / mega-miss; a worker whose
  // loop has not run for watchdog_kill_s aborts the process (0 = never).
  int watchdog_miss_ms = 200;
  int watchdog_megamiss_ms = 1000;
  int watchdog_kill_s = 0;
};

}  // namespace reactord::server
