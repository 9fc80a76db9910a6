#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "client/shared/protocol.h"
#include "client/shared/proxy_header_option.h"

namespace reactord::client {

struct ClientOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 7000;
  Protocol protocol = Protocol::kEcho;
  // Message and stdin modes: the longest wait for the server at any one step. --check: the
  // whole check.
  int timeout_ms = 5000;
  // A PROXY protocol header sent first on the connection, for a server run with --proxy_protocol.
  ProxyHeaderOption proxy;
};

// The three things reactor-client does. Each connects, talks, writes what the server sent to
// `out_fd`, and returns true, or false with the reason in `error`. Run on the calling thread;
// they block (bounded by the timeout, except while waiting for stdin).

// Sends each message in turn on one connection and prints each reply. echo: waits for the whole
// message to come back and checks it; ack: sends it as a line ('\n' appended when missing) and
// expects kAckReply for each line in it.
bool sendMessages(const ClientOptions& options, const std::vector<std::string>& messages,
                  int out_fd, std::string* error);

// Streams `in_fd` to the server until end of input, then half-closes, and copies everything the
// server sends to `out_fd` until the server closes.
bool pumpStream(const ClientOptions& options, int in_fd, int out_fd, std::string* error);

// Reads a reactord status file (common/server_status.h) into options' host, port and protocol,
// and a v2 LOCAL PROXY header when the server wants one and options name no other header.
// False with `error` naming the file and what is wrong (missing, unreadable, malformed).
bool applyStatusFile(const std::string& path, ClientOptions* options, std::string* error);

// Health check: connects, round-trips one probe message and checks the reply, all within
// options.timeout_ms. Writes one "ok ..." line to `out_fd` on success.
bool checkServer(const ClientOptions& options, int out_fd, std::string* error);

}  // namespace reactord::client
