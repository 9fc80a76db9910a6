#include "client/reactor_client/client_commands.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>

#include "client/reactor_client/stream_pump.h"
#include "client/reactor_client/tcp_client.h"
#include "client/shared/resolve.h"
#include "common/file_io.h"
#include "common/server_status.h"

namespace reactord::client {
namespace {

constexpr size_t kReadChunk = size_t{64} * 1024;

Clock::time_point deadlineAfter(int timeout_ms) {
  return Clock::now() + std::chrono::milliseconds(timeout_ms);
}

// Sends the PROXY protocol header the options ask for, if any, before anything else.
bool sendProxyHeader(const ClientOptions& options, Clock::time_point deadline, TcpClient* client,
                     std::string* error) {
  const std::optional<std::string> header = options.proxy.headerFor(client->fd());
  if (!header) {
    *error = "cannot read the addresses of the connection to " + client->peer() +
             " for its PROXY header";
    return false;
  }
  return header->empty() || client->sendAll(*header, deadline, error);
}

// Tries each address of the host in turn (a name may have IPv6 and IPv4 ones); the error is the
// last one's. Then sends the PROXY header, if any.
bool connectTo(const ClientOptions& options, Clock::time_point deadline, TcpClient* client,
               std::string* error) {
  for (const auto& address : resolveAddresses(options.host, options.port, error)) {
    if (client->connect(address, deadline, error)) {
      return sendProxyHeader(options, deadline, client, error);
    }
  }
  return false;
}

// Reads until `done(reply)` holds. False on timeout, reset, or the server closing first.
template <typename Done>
bool readUntil(TcpClient& client, Clock::time_point deadline, std::string* reply, Done done,
               std::string* error) {
  char buffer[kReadChunk];
  while (!done(*reply)) {
    const long n = client.readSome(buffer, sizeof buffer, deadline, error);
    if (n < 0) {
      return false;
    }
    if (n == 0) {
      *error = "server " + client.peer() + " closed the connection after " +
               std::to_string(reply->size()) + " bytes of the reply";
      return false;
    }
    reply->append(buffer, static_cast<size_t>(n));
  }
  return true;
}

// Sends `message` and reads its reply into `reply`; false with `error` when the reply is not
// the one the protocol promises.
bool roundTrip(TcpClient& client, Protocol protocol, const std::string& message,
               Clock::time_point deadline, std::string* reply, std::string* error) {
  if (!client.sendAll(message, deadline, error)) {
    return false;
  }
  if (protocol == Protocol::kEcho) {
    auto whole = [&](const std::string& r) { return r.size() >= message.size(); };
    if (!readUntil(client, deadline, reply, whole, error)) {
      return false;
    }
    if (*reply != message) {
      *error = "echo mismatch: sent " + std::to_string(message.size()) +
               " bytes, the server sent back different bytes";
      return false;
    }
    return true;
  }
  const auto lines = static_cast<size_t>(std::count(message.begin(), message.end(), '\n'));
  auto all_lines = [&](const std::string& r) {
    return static_cast<size_t>(std::count(r.begin(), r.end(), '\n')) >= lines;
  };
  if (!readUntil(client, deadline, reply, all_lines, error)) {
    return false;
  }
  std::string expected;
  for (size_t i = 0; i < lines; ++i) {
    expected += kAckReply;
  }
  if (*reply != expected) {
    *error = "unexpected acknowledgement from " + client.peer();
    return false;
  }
  return true;
}

}  // namespace

bool sendMessages(const ClientOptions& options, const std::vector<std::string>& messages,
                  int out_fd, std::string* error) {
  TcpClient client;
  if (!connectTo(options, deadlineAfter(options.timeout_ms), &client, error)) {
    return false;
  }
  for (std::string message : messages) {
    if (options.protocol == Protocol::kAck && (message.empty() || message.back() != '\n')) {
      message += '\n';
    }
    std::string reply;
    const bool ok = roundTrip(client, options.protocol, message, deadlineAfter(options.timeout_ms),
                              &reply, error);
    if (!reply.empty() && reply.back() != '\n') {
      reply += '\n';  // one reply per output line
    }
    if (!writeAllTo(out_fd, reply.empty() ? "\n" : reply, error) || !ok) {
      return false;
    }
  }
  return true;
}

bool pumpStream(const ClientOptions& options, int in_fd, int out_fd, std::string* error) {
  TcpClient client;
  if (!connectTo(options, deadlineAfter(options.timeout_ms), &client, error)) {
    return false;
  }
  StreamPump pump(client, in_fd, out_fd, options.timeout_ms);
  return pump.run(error);
}

bool applyStatusFile(const std::string& path, ClientOptions* options, std::string* error) {
  // A status line is well under 200 bytes; more is not a status file.
  constexpr size_t kMaxStatusBytes = 4096;
  const auto text = common::readSmallFile(path, kMaxStatusBytes, error);
  if (!text) {
    *error = "--status_file: " + *error + " (is reactord running with --status_file=" + path + "?)";
    return false;
  }
  const auto status = common::ServerStatus::parse(*text, error);
  if (!status) {
    *error = "--status_file=" + path + " is malformed: " + *error;
    return false;
  }
  options->host = status->address.ipString();
  options->port = status->address.port();
  options->protocol = *parseProtocol(status->protocol);
  if (status->proxy_protocol && options->proxy.kind == ProxyHeaderKind::kNone) {
    options->proxy.kind = ProxyHeaderKind::kV2Local;  // as a balancer's own health check
  }
  return true;
}

bool checkServer(const ClientOptions& options, int out_fd, std::string* error) {
  const auto start = Clock::now();
  const auto deadline = deadlineAfter(options.timeout_ms);
  TcpClient client;
  if (!connectTo(options, deadline, &client, error)) {
    return false;
  }
  const std::string probe = "reactor-client check " + std::to_string(getpid()) + "\n";
  std::string reply;
  if (!roundTrip(client, options.protocol, probe, deadline, &reply, error)) {
    return false;
  }
  const double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  char line[160];
  std::snprintf(line, sizeof line, "ok: %s round trip with %s in %.2f ms\n",
                protocolName(options.protocol), client.peer().c_str(), ms);
  return writeAllTo(out_fd, line, error);
}

}  // namespace reactord::client
