// reactor-client: talks to a reactord server (see docs/client-tools.md).
#include <gflags/gflags.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "client/reactor_client/client_commands.h"
#include "client/shared/flag_checks.h"

DEFINE_string(host, "127.0.0.1", "Server address: an IPv4/IPv6 literal or a host name");
DEFINE_int32(port, 7000, "Server port");
DEFINE_string(protocol, "echo",
              "Server protocol: echo (bytes come back) or ack (lines, each "
              "answered with 'Message received')");
DEFINE_int32(timeout_ms, 5000,
             "Longest wait for the server at any one step; with --check, the "
             "whole check");
DEFINE_bool(check, false,
            "Health check: round-trip one probe message, exit 0 if the reply is "
            "right, else exit 1 with the reason on stderr");

DEFINE_string(status_file, "",
              "With --check: read the address and protocol from the status file that reactord "
              "writes with its own --status_file (the container HEALTHCHECK uses this), instead "
              "of --host, --port and --protocol");
DEFINE_string(proxy_header, "none",
              "Send a PROXY protocol header first, as a balancer does, to a server run with "
              "--proxy_protocol: none, v1 (text), v2 (binary), or v2-local (a LOCAL header: the "
              "server keeps the connection's own address, as for a balancer's health check)");
DEFINE_string(proxy_source, "",
              "With --proxy_header=v1|v2: the client address the header claims (numeric IPv4 or "
              "IPv6; the port is the connection's own). Empty: the connection's own address");

DEFINE_validator(port, &reactord::client::validPort);
DEFINE_validator(proxy_header, &reactord::client::validProxyHeader);
DEFINE_validator(proxy_source, &reactord::client::validProxySource);
DEFINE_validator(timeout_ms, &reactord::client::validPositive);
DEFINE_validator(protocol, &reactord::client::validProtocol);

int main(int argc, char** argv) {
  gflags::SetUsageMessage(
      "talk to a reactord server\n"
      "  reactor-client [--host=H] [--port=P] [--protocol=echo|ack] \"message\" ...\n"
      "      sends each message, prints each reply\n"
      "  reactor-client [--host=H] [--port=P] < input\n"
      "      sends stdin, half-closes, prints everything the server sends until it closes\n"
      "  reactor-client --check [--port=P] [--timeout_ms=T]\n"
      "      health check: exit 0 when one probe round-trips correctly\n"
      "  reactor-client --check --status_file=PATH\n"
      "      the same, at the address and with the protocol that a running reactord wrote there\n"
      "  --proxy_header=v1|v2|v2-local [--proxy_source=IP]\n"
      "      any of them through a server run with --proxy_protocol: a PROXY header goes first");
  gflags::SetVersionString("0.1.0");
  gflags::ParseCommandLineFlags(&argc, &argv, /*remove_flags=*/true);

  reactord::client::ClientOptions options;
  options.host = FLAGS_host;
  options.port = static_cast<uint16_t>(FLAGS_port);
  options.protocol = *reactord::client::parseProtocol(FLAGS_protocol);
  options.timeout_ms = FLAGS_timeout_ms;
  options.proxy.kind = *reactord::client::parseProxyHeaderKind(FLAGS_proxy_header);
  std::string error;
  reactord::client::parseProxySource(FLAGS_proxy_source, &options.proxy.source, &error);
  if (options.proxy.source && options.proxy.kind != reactord::client::ProxyHeaderKind::kV1 &&
      options.proxy.kind != reactord::client::ProxyHeaderKind::kV2) {
    std::fprintf(stderr, "reactor-client: --proxy_source needs --proxy_header=v1 or v2\n");
    return 1;
  }
  const std::vector<std::string> messages(argv + 1, argv + argc);

  if (!FLAGS_status_file.empty()) {
    for (const char* flag : {"host", "port", "protocol"}) {
      if (!gflags::GetCommandLineFlagInfoOrDie(flag).is_default) {
        std::fprintf(stderr,
                     "reactor-client: --status_file gives the address and protocol: "
                     "drop --%s\n",
                     flag);
        return 1;
      }
    }
    if (!FLAGS_check) {
      std::fprintf(stderr, "reactor-client: --status_file goes with --check\n");
      return 1;
    }
    if (!reactord::client::applyStatusFile(FLAGS_status_file, &options, &error)) {
      std::fprintf(stderr, "reactor-client: %s\n", error.c_str());
      return 1;
    }
  }
  bool ok = false;
  if (FLAGS_check) {
    if (!messages.empty()) {
      std::fprintf(stderr, "reactor-client: --check takes no message arguments\n");
      return 1;
    }
    ok = reactord::client::checkServer(options, STDOUT_FILENO, &error);
  } else if (messages.empty()) {
    ok = reactord::client::pumpStream(options, STDIN_FILENO, STDOUT_FILENO, &error);
  } else {
    ok = reactord::client::sendMessages(options, messages, STDOUT_FILENO, &error);
  }
  if (!ok) {
    std::fprintf(stderr, "reactor-client: %s\n", error.c_str());
    return 1;
  }
  return 0;
}
