#pragma once

#include <string>

#include "client/reactor_client/tcp_client.h"

namespace reactord::client {

// Writes `data` to `fd` completely (blocking fd). False with `error` on failure.
bool writeAllTo(int fd, std::string_view data, std::string* error);

// Copies an input fd to a connected socket and the socket to an output fd at the same time (so a
// large echo cannot deadlock on full buffers). At end of input it half-closes the socket and keeps
// copying until the server closes. Waits on the server at most `timeout_ms` without progress; waits
// on the input as long as it takes. Uses the client and fds it is given, owns none; one thread.
class StreamPump {
 public:
  StreamPump(TcpClient& client, int in_fd, int out_fd, int timeout_ms)
      : client_(client), in_fd_(in_fd), out_fd_(out_fd), timeout_ms_(timeout_ms) {}

  // Runs until the server closes (true) or an error (false, `error` set).
  bool run(std::string* error);

 private:
  static constexpr size_t kMaxPending = size_t{256} * 1024;

  bool readInput(std::string* error);
  bool sendPending(std::string* error);
  // Returns 1 after copying data, 0 when the server closed, -1 on error.
  int copyReply(std::string* error);

  TcpClient& client_;
  const int in_fd_;
  const int out_fd_;
  const int timeout_ms_;
  std::string pending_;  // input not sent yet
  bool input_done_ = false;
  bool half_closed_ = false;
};

}  // namespace reactord::client
