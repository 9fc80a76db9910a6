#include "client/reactor_client/stream_pump.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/file_io.h"

namespace reactord::client {

bool writeAllTo(int fd, std::string_view data, std::string* error) {
  if (!common::writeAll(fd, data)) {
    *error = "cannot write the output: " + std::string(std::strerror(errno));
    return false;
  }
  return true;
}

bool StreamPump::run(std::string* error) {
  while (true) {
    if (input_done_ && pending_.empty() && !half_closed_) {
      if (!client_.shutdownWrite(error)) {
        return false;
      }
      half_closed_ = true;
    }
    const bool want_input = !input_done_ && pending_.size() < kMaxPending;
    pollfd fds[2] = {
        {client_.fd(), static_cast<short>(POLLIN | (pending_.empty() ? 0 : POLLOUT)), 0},
        {in_fd_, POLLIN, 0}};
    // Waiting for the user's input has no limit; waiting only for the server does.
    const int ready = poll(fds, want_input ? 2 : 1, want_input ? -1 : timeout_ms_);
    if (ready < 0 && errno == EINTR) {
      continue;
    }
    if (ready <= 0) {
      *error = ready == 0 ? "timed out after " + std::to_string(timeout_ms_) + " ms waiting for " +
                                client_.peer()
                          : "poll failed: " + std::string(std::strerror(errno));
      return false;
    }
    if (want_input && fds[1].revents != 0 && !readInput(error)) {
      return false;
    }
    if ((fds[0].revents & POLLOUT) != 0 && !sendPending(error)) {
      return false;
    }
    if ((fds[0].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
      const int copied = copyReply(error);
      if (copied <= 0) {
        return copied == 0;
      }
    }
  }
}

bool StreamPump::readInput(std::string* error) {
  char buffer[64 * 1024];
  const ssize_t n = read(in_fd_, buffer, sizeof buffer);
  if (n < 0 && errno == EINTR) {
    return true;
  }
  if (n < 0) {
    *error = "cannot read the input: " + std::string(std::strerror(errno));
    return false;
  }
  input_done_ = n == 0;
  pending_.append(buffer, static_cast<size_t>(n));
  return true;
}

bool StreamPump::sendPending(std::string* error) {
  const ssize_t n = send(client_.fd(), pending_.data(), pending_.size(), MSG_NOSIGNAL);
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
    return true;
  }
  if (n < 0) {
    *error = "cannot send to " + client_.peer() + ": " + std::strerror(errno);
    return false;
  }
  pending_.erase(0, static_cast<size_t>(n));
  return true;
}

int StreamPump::copyReply(std::string* error) {
  char buffer[64 * 1024];
  const ssize_t n = recv(client_.fd(), buffer, sizeof buffer, MSG_DONTWAIT);
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
    return 1;
  }
  if (n < 0) {
    *error = "cannot read from " + client_.peer() + ": " + std::strerror(errno);
    return -1;
  }
  if (n == 0) {
    if (!half_closed_) {
      *error = "server " + client_.peer() + " closed the connection before all input was sent";
      return -1;
    }
    return 0;
  }
  return writeAllTo(out_fd_, std::string_view(buffer, static_cast<size_t>(n)), error) ? 1 : -1;
}

}  // namespace reactord::client
