#include "common/fd_message.h"

#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>

namespace reactord::common {
namespace {

int millisecondsLeft(Deadline deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  return static_cast<int>(std::clamp<int64_t>(left.count(), 0, 60'000));
}

std::string errnoText(const char* what, int error) {
  return std::string(what) + ": " + std::strerror(error);
}

// Takes ownership of every descriptor of every SCM_RIGHTS block; false when another kind of
// control message is there (its descriptors, if any, are not ours to interpret).
bool collectFds(msghdr& header, std::vector<UniqueFd>* fds) {
  bool only_rights = true;
  for (cmsghdr* c = CMSG_FIRSTHDR(&header); c != nullptr; c = CMSG_NXTHDR(&header, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) {
      only_rights = false;
      continue;
    }
    const size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    const auto* data = reinterpret_cast<const unsigned char*>(CMSG_DATA(c));
    for (size_t i = 0; i < count; ++i) {
      int fd;
      std::memcpy(&fd, data + i * sizeof(int), sizeof fd);
      fds->emplace_back(fd);
    }
  }
  return only_rights;
}

}  // namespace

bool waitUntilReady(int fd, short events, Deadline deadline) {
  while (true) {
    pollfd entry{fd, events, 0};
    const int ready = ::poll(&entry, 1, millisecondsLeft(deadline));
    if (ready > 0) {
      return true;  // readable, writable, or an error/hang-up the next call reports
    }
    if (ready == 0) {
      if (std::chrono::steady_clock::now() >= deadline) {
        errno = ETIMEDOUT;
        return false;
      }
      continue;  // the 60 s cap of one poll
    }
    if (errno != EINTR) {
      return false;
    }
  }
}

ReceiveResult receiveFdMessage(int socket, size_t max_bytes, size_t max_fds, Deadline deadline) {
  ReceiveResult result;
  // One byte more than allowed, so that a message of exactly max_bytes + 1 is caught even where
  // MSG_TRUNC would not be set; room for one descriptor more than allowed, likewise.
  std::string buffer(max_bytes + 1, '\0');
  const size_t control_size = CMSG_SPACE(sizeof(int) * (max_fds + 1));
  auto control = std::make_unique<unsigned char[]>(control_size);
  bool reset_seen = false;
  while (true) {
    iovec vector{buffer.data(), buffer.size()};
    msghdr header{};
    header.msg_iov = &vector;
    header.msg_iovlen = 1;
    header.msg_control = control.get();
    header.msg_controllen = control_size;
    const ssize_t n = ::recvmsg(socket, &header, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
    if (n < 0) {
      const int error = errno;
      if (error == EINTR) {
        continue;
      }
      if (error == EAGAIN) {
        if (!waitUntilReady(socket, POLLIN, deadline)) {
          result.status = errno == ETIMEDOUT ? ReceiveStatus::kTimeout : ReceiveStatus::kError;
          result.error = errnoText("waiting for a message", errno);
          return result;
        }
        continue;
      }
      if (error == ECONNRESET && !reset_seen) {
        // A peer that closed with our messages unread in its queue leaves ECONNRESET, which
        // recvmsg reports before the messages it sent us first (its last words, such as why it
        // gave up). Once reported, the error is gone: read on.
        reset_seen = true;
        continue;
      }
      result.status = error == ECONNRESET ? ReceiveStatus::kClosed : ReceiveStatus::kError;
      result.error = errnoText("recvmsg", error);
      return result;
    }
    std::vector<UniqueFd> fds;
    const bool only_rights = collectFds(header, &fds);  // owned before any check: closed on error
    if ((header.msg_flags & MSG_CTRUNC) != 0 || fds.size() > max_fds) {
      result.status = ReceiveStatus::kTooManyFds;
      result.error = "a message carried more than " + std::to_string(max_fds) +
                     " descriptors (control data truncated)";
    } else if (!only_rights) {
      result.status = ReceiveStatus::kBadControl;
      result.error = "a message carried control data other than SCM_RIGHTS";
    } else if ((header.msg_flags & MSG_TRUNC) != 0 || static_cast<size_t>(n) > max_bytes) {
      result.status = ReceiveStatus::kTruncated;
      result.error = "a message longer than " + std::to_string(max_bytes) + " bytes";
    } else if (n == 0) {
      result.status = ReceiveStatus::kClosed;
      result.error = "the peer closed the channel";
    } else {
      buffer.resize(static_cast<size_t>(n));
      result.status = ReceiveStatus::kOk;
      result.message.bytes = std::move(buffer);
      result.message.fds = std::move(fds);
    }
    return result;
  }
}

bool sendFdMessage(int socket, std::string_view bytes, std::span<const int> fds, Deadline deadline,
                   std::string* error) {
  if (bytes.empty() || fds.size() > kMaxFdsPerMessage) {
    *error = "sendFdMessage: empty message or too many descriptors";
    return false;
  }
  const size_t control_size = fds.empty() ? 0 : CMSG_SPACE(sizeof(int) * fds.size());
  auto control = std::make_unique<unsigned char[]>(std::max<size_t>(control_size, 1));
  iovec vector{const_cast<char*>(bytes.data()), bytes.size()};
  msghdr header{};
  header.msg_iov = &vector;
  header.msg_iovlen = 1;
  if (!fds.empty()) {
    std::memset(control.get(), 0, control_size);
    header.msg_control = control.get();
    header.msg_controllen = control_size;
    cmsghdr* c = CMSG_FIRSTHDR(&header);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
    std::memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
  }
  while (true) {
    const ssize_t n = ::sendmsg(socket, &header, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n == static_cast<ssize_t>(bytes.size())) {
      return true;
    }
    if (n >= 0) {
      *error =
          "sendmsg sent " + std::to_string(n) + " of " + std::to_string(bytes.size()) + " bytes";
      return false;
    }
    if (errno == EINTR) {
      continue;
    }
    if (errno != EAGAIN || !waitUntilReady(socket, POLLOUT, deadline)) {
      *error = errnoText(errno == ETIMEDOUT ? "waiting to send" : "sendmsg", errno);
      return false;
    }
  }
}

}  // namespace reactord::common
