// reactor-bench: an event-driven load generator for reactord (see docs/client-tools.md).
#include <gflags/gflags.h>
#include <glog/logging.h>

#include <cinttypes>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "client/reactor_bench/bench_options.h"
#include "client/reactor_bench/bench_runner.h"
#include "client/shared/flag_checks.h"
#include "client/shared/resolve.h"

DEFINE_string(host, "127.0.0.1", "Server address: an IPv4/IPv6 literal or a host name");
DEFINE_int32(port, 7000, "Server port");
DEFINE_string(protocol, "echo",
              "echo (every byte comes back and is checked) or ack (lines of "
              "--message_bytes including the '\\n', each answered with "
              "'Message received')");
DEFINE_string(mode, "pingpong",
              "pingpong (closed loop), rate (open loop at --rate), churn "
              "(connect, one message, close), bulk (streaming), idle (hold "
              "--connections open), stall (send chunks as fast as the server takes "
              "them, never read: echo --message_bytes per chunk, ack 64 KiB of lines)");
DEFINE_int32(threads, 1, "Load-generator threads, each with its own event loop");
DEFINE_int32(connections, 50, "Connections in total (mode=churn: connections at once)");
DEFINE_int32(message_bytes, 64, "Bytes per message (mode=bulk: per chunk)");
DEFINE_int32(pipeline, 1,
             "Messages in flight per connection (pingpong; bulk keeps at least "
             "256 KiB in flight)");
DEFINE_double(duration_s, 10, "Measured seconds (mode=idle: how long connections are held)");
DEFINE_double(warmup_s, 1, "Seconds of load before the measured window, excluded from figures");
DEFINE_double(rate, 10000, "mode=rate: messages per second in total");
DEFINE_double(connect_rate, 0,
              "mode=churn: new connections per second in total, on a fixed schedule whatever the "
              "server does (open loop; a connect due while every --connections slot is busy is "
              "counted as missed). 0 = closed loop: each slot reconnects as soon as it is done");
DEFINE_int32(timeout_ms, 5000,
             "A message without its reply this long is a timeout; also bounds "
             "connects and the final close");
DEFINE_int32(socket_buffer_bytes, 0,
             "SO_SNDBUF and SO_RCVBUF of each connection (the kernel doubles them); 0 = the "
             "kernel's defaults. Small buffers keep many stall connections from filling the "
             "machine's TCP memory on this side.");
DEFINE_bool(json, false, "Print one line of JSON on stdout instead of the summary");
DEFINE_bool(progress, true, "Print one progress line per second on stderr");
DEFINE_string(proxy_header, "none",
              "Send a PROXY protocol header first on every connection, as a balancer does, to a "
              "server run with --proxy_protocol: none, v1, v2 or v2-local");
DEFINE_string(proxy_source, "",
              "With --proxy_header=v1|v2: the client address the headers claim (numeric IPv4 or "
              "IPv6). Empty: each connection's own address");

namespace {

// --mode names one of BenchOptions' modes.
bool validBenchMode(const char* flag, const std::string& value) {
  return reactord::client::validChoice(flag, value,
                                       reactord::client::parseBenchMode(value).has_value(),
                                       "pingpong, rate, churn, bulk, idle or stall");
}

}  // namespace

namespace checks = reactord::client;
DEFINE_validator(port, &checks::validPort);
DEFINE_validator(protocol, &checks::validProtocol);
DEFINE_validator(mode, &validBenchMode);
DEFINE_validator(threads, &checks::validThreads);
DEFINE_validator(connections, &checks::validPositive);
DEFINE_validator(message_bytes, &checks::validMessageBytes);
DEFINE_validator(pipeline, &checks::validPositive);
DEFINE_validator(duration_s, &checks::validNonNegative);
DEFINE_validator(warmup_s, &checks::validNonNegative);
DEFINE_validator(rate, &checks::validNonNegative);
DEFINE_validator(connect_rate, &checks::validNonNegative);
DEFINE_validator(timeout_ms, &checks::validPositive);
DEFINE_validator(socket_buffer_bytes, &checks::validSocketBuffer);
DEFINE_validator(proxy_header, &checks::validProxyHeader);
DEFINE_validator(proxy_source, &checks::validProxySource);

namespace {

// Checks that span several flags. Returns an error text, empty when the options are usable.
std::string crossCheck(const reactord::client::BenchOptions& options) {
  using reactord::client::BenchMode;
  if (options.threads > options.connections) {
    return "--threads must not exceed --connections";
  }
  if (options.protocol == reactord::client::Protocol::kAck && options.message_bytes < 2) {
    return "--protocol=ack needs --message_bytes of at least 2 (one byte and the '\\n')";
  }
  if (options.mode == BenchMode::kRate && options.rate <= 0) {
    return "--mode=rate needs a positive --rate";
  }
  if (options.connect_rate > 0 && options.mode != BenchMode::kChurn) {
    return "--connect_rate applies to --mode=churn only";
  }
  if (options.mode != BenchMode::kIdle && options.duration_s <= 0) {
    return "--duration_s must be positive";
  }
  if (options.proxy.source && options.proxy.kind != reactord::client::ProxyHeaderKind::kV1 &&
      options.proxy.kind != reactord::client::ProxyHeaderKind::kV2) {
    return "--proxy_source needs --proxy_header=v1 or v2";
  }
  return {};
}

// The options from the flags (the only place that reads FLAGS_*), or an error text.
std::string optionsFromFlags(reactord::client::BenchOptions* options) {
  std::string error;
  const auto address =
      reactord::client::resolveAddress(FLAGS_host, static_cast<uint16_t>(FLAGS_port), &error);
  if (!address) {
    return error;
  }
  options->address = *address;
  options->protocol = *reactord::client::parseProtocol(FLAGS_protocol);
  options->mode = *reactord::client::parseBenchMode(FLAGS_mode);
  options->threads = FLAGS_threads;
  options->connections = FLAGS_connections;
  options->message_bytes = FLAGS_message_bytes;
  options->pipeline = FLAGS_pipeline;
  options->duration_s = FLAGS_duration_s;
  options->warmup_s = FLAGS_warmup_s;
  options->rate = FLAGS_rate;
  options->connect_rate = FLAGS_connect_rate;
  options->timeout_ms = FLAGS_timeout_ms;
  options->socket_buffer_bytes = FLAGS_socket_buffer_bytes;
  options->progress = FLAGS_progress;
  options->proxy.kind = *reactord::client::parseProxyHeaderKind(FLAGS_proxy_header);
  if (!reactord::client::parseProxySource(FLAGS_proxy_source, &options->proxy.source, &error)) {
    return error;
  }
  return crossCheck(*options);
}

int fail(const std::string& error) {
  std::fprintf(stderr, "reactor-bench: %s\n", error.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  gflags::SetUsageMessage(
      "load generator for reactord\n"
      "  reactor-bench [--host=H] [--port=P] [--protocol=echo|ack] "
      "[--mode=pingpong|rate|churn|bulk|idle|stall] [--json] ...");
  gflags::SetVersionString("0.1.0");
  gflags::ParseCommandLineFlags(&argc, &argv, /*remove_flags=*/true);
  if (std::getenv("GLOG_logtostderr") == nullptr) {
    FLAGS_logtostderr = true;
  }
  google::InitGoogleLogging(argv[0]);
  std::signal(SIGPIPE, SIG_IGN);
  if (argc > 1) {
    return fail(std::string("unexpected argument '") + argv[1] + "' (see --help)");
  }

  reactord::client::BenchOptions options;
  std::string error = optionsFromFlags(&options);
  if (!error.empty()) {
    return fail(error);
  }
  reactord::client::BenchRunner runner(options);
  if (!runner.prepare(&error)) {
    return fail(error);
  }
  const reactord::client::BenchResult result = runner.run();
  const std::string report = FLAGS_json ? reactord::client::formatJson(result) + "\n"
                                        : reactord::client::formatSummary(result);
  std::fputs(report.c_str(), stdout);
  if (const std::string warning = reactord::client::clientLagWarning(result);
      FLAGS_json && !warning.empty()) {
    std::fprintf(stderr, "reactor-bench: %s\n", warning.c_str());
  }
  if (result.failed()) {
    return fail(std::to_string(result.all.errors()) + " errors (see the error counts)");
  }
  return 0;
}
