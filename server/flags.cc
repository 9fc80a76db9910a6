// Every command-line flag of reactord, with its validator. Nothing else reads FLAGS_*.
#include "server/flags.h"

#include <gflags/gflags.h>
#include <glog/logging.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "common/cidr_list.h"
#include "common/cpu_count.h"
#include "common/listen_socket.h"
#include "common/memory_limit.h"
#include "common/socket_address.h"
#include "common/unix_socket.h"
#include "common/wire_protocol.h"
#include "server/command_line.h"

DEFINE_string(bind, "0.0.0.0",
              "Address to listen on: an IPv4 or IPv6 address; '::' serves both families. "
              "Multicast and broadcast addresses are refused.");
DEFINE_int32(port, 7000, "TCP port to listen on (0 = any free port; the log says which).");
DEFINE_int32(workers, 0,
             "Worker threads, each with its own event loop and SO_REUSEPORT listener. 0 = the CPUs "
             "this process may use (affinity mask and cgroup CPU quota, rounded up).");
DEFINE_string(protocol, "echo",
              "echo: send every byte back (RFC 862). ack: answer each '\\n'-terminated message "
              "with 'Message received\\n'.");
DEFINE_bool(oneshot, false,
            "The tutorial behaviour: answer the first read as if the client had half-closed, then "
            "close.");
DEFINE_int32(backlog, 4096, "Accept queue length per listener (capped by net.core.somaxconn).");
DEFINE_int64(max_connections, 0,
             "Open connections allowed across all workers; beyond it new ones are closed at once "
             "and counted as rejected. 0 = no limit but the open-file limit.");
DEFINE_int64(max_pending_bytes, int64_t{256} * 1024,
             "Unsent output per connection above which the server stops reading it, until it "
             "drains below half (backpressure).");
DEFINE_int64(max_buffered_bytes, 0,
             "Memory that clients may make the server hold in all: output waiting for them, "
             "connection state, an estimate of their kernel socket buffers. Each worker gets an "
             "equal share; past 50/75/90 % of it the worker stops reading from connections with "
             "pending output, stops accepting, then closes the most stalled ones. 0 = half of "
             "the memory limit (the cgroup's memory.max or memory.limit_in_bytes, else the "
             "machine's memory; the log says which).");
DEFINE_int64(max_message_bytes, int64_t{64} * 1024,
             "ack: longest message; a longer one gets 'ERR message too long' and the connection "
             "is closed.");
DEFINE_int32(idle_timeout_s, 0,
             "Close connections with no traffic for this many seconds (0 = never).");
DEFINE_int32(drain_timeout_s, 5,
             "On SIGTERM/SIGINT, serve open connections this long at most before closing them; "
             "keep it below the container's stop timeout (Docker: 10 s).");
DEFINE_int32(drain_delay_s, 0,
             "On SIGTERM/SIGINT, first this many seconds during which /readyz answers 503 but the "
             "listeners still accept and serve, so that load balancers stop sending before "
             "connects are refused; then the drain (--drain_timeout_s). 0 = drain at once.");
DEFINE_int32(stats_interval_s, 10,
             "Log a stats line this often (0 = only at exit and on SIGUSR1).");
DEFINE_int32(max_connections_per_ip, 0,
             "Open connections allowed from one client address, across all workers; beyond it "
             "new ones are closed at once and counted as per_ip_rejected. 0 = no limit.");
DEFINE_int32(write_timeout_s, 0,
             "Close a connection whose unsent output has not moved for this many seconds (a "
             "client that stopped reading). 0 = never.");
DEFINE_int32(message_timeout_s, 0,
             "ack: close a connection (after 'ERR message timeout') whose current message is "
             "still unfinished after this many seconds, even if bytes keep trickling in "
             "(slowloris). Time in which the server is not reading the connection (backpressure) "
             "does not count. 0 = never.");

// The PROXY protocol: a balancer in front names the real client.
DEFINE_bool(proxy_protocol, false,
            "Every connection must begin with a PROXY protocol header, version 1 or 2 (what "
            "HAProxy's send-proxy/send-proxy-v2, nginx's proxy_protocol and cloud load balancers "
            "send); the client address it names is the one --max_connections_per_ip and the logs "
            "use. A connection without a valid header, or from a source outside "
            "--proxy_protocol_from, is closed without a reply. Only for a port that balancers "
            "alone can reach.");
DEFINE_string(proxy_protocol_from, reactord::common::kPrivateAndLoopbackCidrs,
              "With --proxy_protocol: the sources allowed to send a header (the balancers), as "
              "comma-separated IPv4/IPv6 networks; a connection from anywhere else is refused. "
              "The default is loopback and the private ranges; 0.0.0.0/0,::/0 trusts every "
              "source.");
DEFINE_int32(proxy_header_timeout_s, 3,
             "With --proxy_protocol: close a connection whose header is not complete this many "
             "seconds after it was accepted.");

// The admin endpoint.
DEFINE_int32(admin_port, 0,
             "HTTP admin endpoint port (/metrics, /healthz, /readyz, /stats). 0 = off; -1 = any "
             "free port (the log line 'admin listening on ADDR:PORT' says which).");
DEFINE_string(admin_bind, "127.0.0.1",
              "Address of the admin endpoint: an IPv4 or IPv6 address. Keep it private: it "
              "needs no credentials.");
DEFINE_int32(admin_max_connections, 16,
             "Admin endpoint connections open at once (1..1024); one more is answered 503 and "
             "closed at once, counted as admin_rejected. The admin port can thus take at most this "
             "many descriptors, plus one for a moment, from the data port.");
DEFINE_int32(admin_timeout_s, 10,
             "Longest life of an admin connection, from accept (1..3600 s): request, response and "
             "close must fit in it, and bytes trickling in do not extend it (an unfinished request "
             "gets 408); counted as admin_timed_out.");
// Upgrade in place: listening-socket takeover.
DEFINE_string(control_socket, "",
              "Path of a Unix-domain control socket (mode 0600, removed at exit) through which a "
              "newer reactord started with --takeover_from=PATH can take over this one's "
              "listening sockets: no connection is refused or reset during the upgrade. Empty = "
              "off. A stale socket of a dead process is replaced; a live one fails the start.");
DEFINE_string(takeover_from, "",
              "Take over the listening sockets of the reactord whose --control_socket is PATH "
              "instead of opening new ones: they must match --bind and --port (--port=0 takes the "
              "old one's port). When this process serves them, the old one stops accepting and "
              "drains as on SIGTERM. Any failure leaves the old one serving and exits 1 here. Give "
              "the same PATH as --control_socket to take its place for the next upgrade.");
DEFINE_bool(takeover_optional, false,
            "With --takeover_from: when nothing listens at that path (no socket, or a stale one of "
            "a process that is gone), start normally instead of exiting 1. Every other failure "
            "(refused, address mismatch, permission, protocol version) still exits 1. For units "
            "and scripts that start and upgrade with the same command line.");
DEFINE_string(stats_format, "text",
              "Format of the stats log line: text (key=value) or json (one JSON object per line, "
              "the same keys).");

// Health checks in the same container (reactor-client --check --status_file=PATH).
DEFINE_string(status_file, "",
              "Once listening, write one line 'address=IP:PORT protocol=P oneshot=0|1 "
              "proxy_protocol=0|1 pid=N' to this file (atomically: PATH.tmp, then rename) for a "
              "health checker on the same host; removed at exit. Empty = off.");
// The loop watchdog.
DEFINE_int32(
    watchdog_miss_ms, 200,
    "A worker's loop that runs this late (a probe timer due every quarter of this, at most "
    "50 ms, ran this long after it was due) counts a loop_miss; the supervisor logs a "
    "WARNING naming a worker whose loop has not run for this long, and again when it "
    "recovers.");
DEFINE_int32(
    watchdog_megamiss_ms, 1000,
    "A loop that runs this late also counts a loop_mega_miss. At least --watchdog_miss_ms.");
DEFINE_int32(watchdog_kill_s, 0,
             "Abort the process, with the stalled thread's stack in the log, when a worker's loop "
             "has not run for this many seconds, so that a supervisor (Kubernetes, systemd) "
             "restarts it. 0 = never. Must exceed --watchdog_miss_ms.");

namespace {

bool inRange(const char* flag, int64_t value, int64_t low, int64_t high) {
  if (value < low || value > high) {
    std::fprintf(stderr, "--%s=%lld is out of range: must be %lld..%lld\n", flag,
                 static_cast<long long>(value), static_cast<long long>(low),
                 static_cast<long long>(high));
    return false;
  }
  return true;
}

bool validateBind(const char* flag, const std::string& value) {
  const auto address = reactord::common::SocketAddress::parse(value, 0);
  if (!address) {
    std::fprintf(stderr, "--%s=%s is not a numeric IPv4 or IPv6 address\n", flag, value.c_str());
    return false;
  }
  const std::string reason = reactord::common::unlistenableReason(*address);
  if (!reason.empty()) {
    std::fprintf(stderr,
                 "--%s=%s %s: TCP cannot take connections there; use an address of this host, or "
                 "0.0.0.0 or :: for all of them\n",
                 flag, value.c_str(), reason.c_str());
    return false;
  }
  return true;
}

bool validateProtocol(const char* flag, const std::string& value) {
  if (!reactord::common::parseProtocol(value)) {
    std::fprintf(stderr, "--%s=%s: must be echo or ack\n", flag, value.c_str());
    return false;
  }
  return true;
}

constexpr int64_t kGiB = int64_t{1} << 30;

bool validatePort(const char* f, int32_t v) { return inRange(f, v, 0, 65535); }
bool validateWorkers(const char* f, int32_t v) { return inRange(f, v, 0, 1024); }
bool validateBacklog(const char* f, int32_t v) { return inRange(f, v, 1, 65535); }
bool validateMaxConnections(const char* f, int64_t v) { return inRange(f, v, 0, 100000000); }
bool validatePending(const char* f, int64_t v) { return inRange(f, v, 1024, kGiB); }
bool validateMessage(const char* f, int64_t v) { return inRange(f, v, 1, kGiB); }
bool validateBuffered(const char* f, int64_t v) {
  return v == 0 || inRange(f, v, int64_t{1} << 20, int64_t{1} << 40);
}
bool validateTimeout(const char* f, int32_t v) { return inRange(f, v, 0, int64_t{7} * 86400); }
bool validateDrain(const char* f, int32_t v) { return inRange(f, v, 0, 3600); }
bool validateStats(const char* f, int32_t v) { return inRange(f, v, 0, 86400); }
bool validatePerIp(const char* f, int32_t v) { return inRange(f, v, 0, 1000000); }
bool validateAdminPort(const char* f, int32_t v) { return inRange(f, v, -1, 65535); }
bool validateAdminConnections(const char* f, int32_t v) { return inRange(f, v, 1, 1024); }
bool validateAdminTimeout(const char* f, int32_t v) { return inRange(f, v, 1, 3600); }
bool validateMissMs(const char* f, int32_t v) { return inRange(f, v, 50, 600000); }
bool validateMegamissMs(const char* f, int32_t v) { return inRange(f, v, 50, 3600000); }
bool validateKillS(const char* f, int32_t v) { return inRange(f, v, 0, 86400); }

bool validateCidrList(const char* flag, const std::string& value) {
  std::string error;
  if (!reactord::common::CidrList::parse(value, &error)) {
    std::fprintf(stderr, "--%s=%s: %s\n", flag, value.c_str(), error.c_str());
    return false;
  }
  return true;
}

bool validateHeaderTimeout(const char* f, int32_t v) { return inRange(f, v, 1, 3600); }

bool validateStatsFormat(const char* flag, const std::string& value) {
  if (value != "text" && value != "json") {
    std::fprintf(stderr, "--%s=%s: must be text or json\n", flag, value.c_str());
    return false;
  }
  return true;
}

// A control socket path: empty (off), or a path that fits a sockaddr_un with the private suffix
// ".new.PID" that ControlSocket binds first.
bool validateSocketPath(const char* flag, const std::string& value) {
  constexpr size_t kSuffix = 16;  // ".new." and a pid of up to 10 digits, and room to spare
  if (value.empty()) {
    return true;
  }
  if (value.back() == '/') {
    std::fprintf(stderr, "--%s=%s: must name a file, not a directory\n", flag, value.c_str());
    return false;
  }
  if (value.size() + kSuffix > reactord::common::maxUnixPathLength()) {
    std::fprintf(stderr, "--%s=%s is too long for a Unix socket: at most %zu characters\n", flag,
                 value.c_str(), reactord::common::maxUnixPathLength() - kSuffix);
    return false;
  }
  return true;
}

}  // namespace

DEFINE_validator(bind, &validateBind);
DEFINE_validator(port, &validatePort);
DEFINE_validator(workers, &validateWorkers);
DEFINE_validator(protocol, &validateProtocol);
DEFINE_validator(backlog, &validateBacklog);
DEFINE_validator(max_connections, &validateMaxConnections);
DEFINE_validator(max_pending_bytes, &validatePending);
DEFINE_validator(max_message_bytes, &validateMessage);
DEFINE_validator(max_buffered_bytes, &validateBuffered);
DEFINE_validator(idle_timeout_s, &validateTimeout);
DEFINE_validator(drain_timeout_s, &validateDrain);
DEFINE_validator(drain_delay_s, &validateDrain);
DEFINE_validator(stats_interval_s, &validateStats);
DEFINE_validator(max_connections_per_ip, &validatePerIp);
DEFINE_validator(write_timeout_s, &validateTimeout);
DEFINE_validator(message_timeout_s, &validateTimeout);
DEFINE_validator(proxy_protocol_from, &validateCidrList);
DEFINE_validator(proxy_header_timeout_s, &validateHeaderTimeout);
DEFINE_validator(admin_port, &validateAdminPort);
DEFINE_validator(admin_bind, &validateBind);
DEFINE_validator(admin_max_connections, &validateAdminConnections);
DEFINE_validator(admin_timeout_s, &validateAdminTimeout);
DEFINE_validator(stats_format, &validateStatsFormat);
DEFINE_validator(control_socket, &validateSocketPath);
DEFINE_validator(takeover_from, &validateSocketPath);
DEFINE_validator(watchdog_miss_ms, &validateMissMs);
DEFINE_validator(watchdog_megamiss_ms, &validateMegamissMs);
DEFINE_validator(watchdog_kill_s, &validateKillS);

namespace reactord::server {
namespace {

constexpr const char* kUsage =
    "a sharded-reactor TCP echo / acknowledgement server.\n"
    "\n"
    "  reactord [--port=7000] [--workers=0] [--protocol=echo|ack] [--oneshot] ...\n"
    "\n"
    "N worker threads, each with its own libevent loop and its own SO_REUSEPORT listener on the\n"
    "same port; the kernel spreads connections across them. Signals: SIGTERM/SIGINT drain and\n"
    "exit 0 (a second one, or SIGQUIT, stops at once); SIGUSR1 logs a stats line now. Logs go to\n"
    "stderr unless glog is configured (--log_dir, GLOG_* variables). --admin_port serves\n"
    "/metrics (Prometheus), /stats (JSON), /healthz and /readyz over HTTP.\n"
    "\n"
    "Upgrade in place: run with --control_socket=PATH; start the new binary with the same flags\n"
    "plus --takeover_from=PATH. It receives the listening sockets themselves (queued connections\n"
    "included), serves them, then the old process stops accepting and drains as on SIGTERM.\n"
    "\n"
    "Every flag can also come from the environment as FLAGS_<name> (FLAGS_port=7100) or from a\n"
    "file (--flagfile=PATH, one --name=value a line, '#' comments). The command line wins over\n"
    "the environment, which wins over the defaults. An unknown flag, wherever it comes from, is "
    "an\n"
    "error (exit 1).";

bool isDefault(const char* flag) {
  gflags::CommandLineFlagInfo info;
  return gflags::GetCommandLineFlagInfo(flag, &info) && info.is_default;
}

// Containers want logs on stderr, but a user who configured glog keeps that choice.
void logToStderrUnlessConfigured() {
  for (const char* variable : {"GLOG_logtostderr", "GLOG_alsologtostderr", "GLOG_log_dir"}) {
    if (std::getenv(variable) != nullptr) {
      return;
    }
  }
  for (const char* flag : {"logtostderr", "alsologtostderr", "log_dir"}) {
    if (!isDefault(flag)) {
      return;
    }
  }
  FLAGS_logtostderr = true;
}

bool helpAsked() {
  for (const char* flag : {"help", "helpfull", "helpshort"}) {
    std::string value;
    if (gflags::GetCommandLineOption(flag, &value) && value == "true") {
      return true;
    }
  }
  return false;
}

std::vector<std::string> environmentEntries() {
  std::vector<std::string> entries;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    entries.emplace_back(*entry);
  }
  return entries;
}

// Parses the environment's FLAGS_<name> variables, then the command line, with every flagfile
// expanded (CommandLine), through gflags' parser and the validators. Exits 1 on an error; exits 0
// after --help (gflags' own exit code for it is 1) and --version.
void parseFlags(int argc, char** argv) {
  const CommandLine command_line(
      [](std::string_view name) {
        gflags::CommandLineFlagInfo info;
        return gflags::GetCommandLineFlagInfo(std::string(name).c_str(), &info);
      },
      [](std::string_view name, std::string_view value) {
        // Sets it now, through the flag's parser and validator; the command line, parsed after,
        // still wins.
        return !gflags::SetCommandLineOption(std::string(name).c_str(), std::string(value).c_str())
                    .empty();
      });
  std::string error;
  const auto built =
      command_line.build(std::vector<std::string>(argv, argv + argc), environmentEntries(), &error);
  if (!built) {
    std::fprintf(stderr, "reactord: %s\n", error.c_str());
    std::exit(1);
  }
  // gflags keeps pointers into the argument strings: they live as long as the process.
  static std::vector<std::string> storage;
  storage = *built;
  std::vector<char*> pointers;
  for (std::string& argument : storage) {
    pointers.push_back(argument.data());
  }
  pointers.push_back(nullptr);
  int count = static_cast<int>(storage.size());
  char** arguments = pointers.data();
  gflags::ParseCommandLineNonHelpFlags(&count, &arguments, /*remove_flags=*/true);
  if (helpAsked()) {
    gflags::ShowUsageWithFlags(argv[0]);
    std::exit(0);
  }
  gflags::HandleCommandLineHelpFlags();  // --version (exit 0) and the rarer --help* forms
  if (count > 1) {
    std::fprintf(stderr,
                 "reactord: unexpected argument '%s' (flags look like --port=7000; see --help)\n",
                 arguments[1]);
    std::exit(1);
  }
}

// The memory limit, and --max_buffered_bytes (0: half of that limit).
void resolveBudget(ServerOptions* options) {
  const common::MemoryLimit limit = common::probeMemoryLimit();
  options->memory_limit_bytes = limit.bytes;
  options->memory_limit_source = limit.source;
  LOG(INFO) << "memory limit " << common::describeBytes(limit.bytes) << " (from " << limit.source
            << ")";
  if (FLAGS_max_buffered_bytes > 0) {
    options->max_buffered_bytes = static_cast<uint64_t>(FLAGS_max_buffered_bytes);
    LOG(INFO) << "buffer budget " << common::describeBytes(options->max_buffered_bytes)
              << " (from --max_buffered_bytes)";
    LOG_IF(WARNING, options->max_buffered_bytes > limit.bytes)
        << "--max_buffered_bytes is above the memory limit: clients can get the process killed";
  } else {
    options->max_buffered_bytes = limit.bytes / 2;
    LOG(INFO) << "buffer budget " << common::describeBytes(options->max_buffered_bytes)
              << " (half of the memory limit)";
  }
  const uint64_t share = options->max_buffered_bytes / static_cast<uint64_t>(options->workers);
  const uint64_t one_client = options->max_pending_bytes + (uint64_t{64} << 10);
  LOG_IF(WARNING, share < 4 * one_client)
      << "each worker's share of the buffer budget (" << share << " bytes) holds fewer than 4 "
      << "clients at --max_pending_bytes: overload actions start with a few slow readers";
}

// The watchdog's flags against each other (a validator sees one flag); exits 1 when they clash.
void checkWatchdogFlags() {
  if (FLAGS_watchdog_megamiss_ms < FLAGS_watchdog_miss_ms) {
    std::fprintf(stderr, "reactord: --watchdog_megamiss_ms=%d is below --watchdog_miss_ms=%d\n",
                 FLAGS_watchdog_megamiss_ms, FLAGS_watchdog_miss_ms);
    std::exit(1);
  }
  if (FLAGS_watchdog_kill_s != 0 &&
      int64_t{FLAGS_watchdog_kill_s} * 1000 <= FLAGS_watchdog_miss_ms) {
    std::fprintf(stderr,
                 "reactord: --watchdog_kill_s=%d must exceed --watchdog_miss_ms=%d (or be 0)\n",
                 FLAGS_watchdog_kill_s, FLAGS_watchdog_miss_ms);
    std::exit(1);
  }
}

}  // namespace

ServerOptions parseCommandLine(int* argc, char*** argv) {
  gflags::SetUsageMessage(kUsage);
  gflags::SetVersionString(REACTORD_VERSION);
  parseFlags(*argc, *argv);
  checkWatchdogFlags();
  logToStderrUnlessConfigured();
  google::InitGoogleLogging((*argv)[0]);

  ServerOptions options;
  options.bind = FLAGS_bind;
  options.port = static_cast<uint16_t>(FLAGS_port);
  options.protocol = *common::parseProtocol(FLAGS_protocol);
  options.oneshot = FLAGS_oneshot;
  options.backlog = FLAGS_backlog;
  options.max_connections = static_cast<uint64_t>(FLAGS_max_connections);
  options.max_pending_bytes = static_cast<size_t>(FLAGS_max_pending_bytes);
  options.max_message_bytes = static_cast<size_t>(FLAGS_max_message_bytes);
  options.idle_timeout_s = FLAGS_idle_timeout_s;
  options.drain_timeout_s = FLAGS_drain_timeout_s;
  options.drain_delay_s = FLAGS_drain_delay_s;
  options.status_file = FLAGS_status_file;
  options.stats_interval_s = FLAGS_stats_interval_s;
  options.max_connections_per_ip = static_cast<uint32_t>(FLAGS_max_connections_per_ip);
  options.write_timeout_s = FLAGS_write_timeout_s;
  options.message_timeout_s = FLAGS_message_timeout_s;
  options.proxy_protocol = FLAGS_proxy_protocol;
  std::string error;
  options.proxy_protocol_from = *common::CidrList::parse(FLAGS_proxy_protocol_from, &error);
  options.proxy_header_timeout_s = FLAGS_proxy_header_timeout_s;
  options.admin_port = FLAGS_admin_port;
  options.admin_bind = FLAGS_admin_bind;
  options.admin_max_connections = static_cast<uint32_t>(FLAGS_admin_max_connections);
  options.admin_timeout_s = FLAGS_admin_timeout_s;
  options.stats_format = FLAGS_stats_format == "json" ? StatsFormat::kJson : StatsFormat::kText;
  options.control_socket = FLAGS_control_socket;
  options.takeover_from = FLAGS_takeover_from;
  options.takeover_optional = FLAGS_takeover_optional;
  options.watchdog_miss_ms = FLAGS_watchdog_miss_ms;
  options.watchdog_megamiss_ms = FLAGS_watchdog_megamiss_ms;
  options.watchdog_kill_s = FLAGS_watchdog_kill_s;
  if (FLAGS_workers > 0) {
    options.workers = FLAGS_workers;
    LOG(INFO) << "workers=" << options.workers << " (from --workers)";
  } else {
    const common::CpuCount cpus = common::probeUsableCpus(common::affinityCpuCount());
    options.workers = cpus.count;
    options.workers_source = cpus.source;
    LOG(INFO) << "workers=" << options.workers << " (from " << cpus.source << ")";
  }
  resolveBudget(&options);
  return options;
}

}  // namespace reactord::server
