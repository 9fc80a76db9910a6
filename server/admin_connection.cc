#include "server/admin_connection.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <utility>

#include "common/http_message.h"
#include "common/raw_io.h"
#include "server/admin_server.h"

namespace reactord::server {
namespace {

// Reads of discarded input per readiness event before yielding to the other connections.
constexpr int kReadsPerEvent = 4;
constexpr const char* kText = "text/plain; charset=utf-8";

}  // namespace

std::string textResponse(int status, std::string_view reason, std::string_view body) {
  return common::formatHttpResponse(status, reason, common::httpDate(std::time(nullptr)), kText,
                                    body, "", /*with_body=*/true);
}

AdminConnection::AdminConnection(AdminServer& server, event_base* base, common::UniqueFd fd,
                                 const timeval& deadline)
    : server_(server), fd_(std::move(fd)) {
  event_.assign(base, fd_.get(), EV_READ | EV_WRITE | EV_CLOSED | EV_ET | EV_PERSIST,
                &AdminConnection::onEvent, this);
  event_.add();
  deadline_.assign(base, -1, 0, &AdminConnection::onDeadline, this);
  deadline_.add(&deadline);
}

void AdminConnection::onEvent(int /*fd*/, short what, void* self) {
  auto* connection = static_cast<AdminConnection*>(self);
  connection->handleEvent(what);
  if (connection->finished()) {
    connection->server_.removeConnection(connection);  // destroys it
  }
}

void AdminConnection::onDeadline(int /*fd*/, short /*what*/, void* self) {
  auto* connection = static_cast<AdminConnection*>(self);
  connection->expire();
  connection->server_.removeConnection(connection);
}

void AdminConnection::handleEvent(short what) {
  if ((what & EV_WRITE) && state_ == State::kWriting) {
    writeResponse();
  }
  if (what & (EV_READ | EV_CLOSED)) {
    if (state_ == State::kReading) {
      readRequest();
    } else if (state_ == State::kLingering) {
      discardInput();
    }
  }
}

void AdminConnection::readRequest() {
  // Edge-triggered: read until the socket is empty, the head is complete or its limit is reached.
  while (state_ == State::kReading) {
    const size_t before = input_.size();
    input_.resize(kMaxHeadBytes);
    const ssize_t n = common::rawRead(fd(), input_.data() + before, kMaxHeadBytes - before);
    input_.resize(before + (n > 0 ? static_cast<size_t>(n) : 0));
    if (n == 0) {
      state_ = State::kFinished;  // gone before its request was complete: nothing to answer
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0) {
      if (errno != EAGAIN) {
        state_ = State::kFinished;
      }
      return;
    } else if (input_.size() == kMaxHeadBytes ||
               std::memchr(input_.data() + before, '\n', static_cast<size_t>(n)) != nullptr) {
      answer();  // a line ended, or the limit is reached: there may be something to answer
    }
  }
}

void AdminConnection::answer() {
  common::HttpRequestHead head;
  switch (common::parseHttpRequestHead(input_, kMaxHeadBytes, &head)) {
    case common::HttpParse::kIncomplete:
      return;
    case common::HttpParse::kComplete:
      respond(server_.respond(head));
      return;
    case common::HttpParse::kBadRequest:
      respond(textResponse(400, "Bad Request", "bad request: not an HTTP/1.x request head\n"));
      return;
    case common::HttpParse::kTooLarge:
      respond(textResponse(431, "Request Header Fields Too Large",
                           "request head over 8 KiB: not served\n"));
      return;
    case common::HttpParse::kBadVersion:
      respond(textResponse(505, "HTTP Version Not Supported", "use HTTP/1.0 or HTTP/1.1\n"));
      return;
  }
}

void AdminConnection::respond(std::string response) {
  input_ = std::string();  // the head's views are not used past this point
  output_ = std::move(response);
  state_ = State::kWriting;
  writeResponse();
}

void AdminConnection::writeResponse() {
  while (sent_ < output_.size()) {
    const ssize_t n = common::rawSend(fd(), output_.data() + sent_, output_.size() - sent_);
    if (n > 0) {
      sent_ += static_cast<size_t>(n);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      if (n == 0 || errno != EAGAIN) {
        state_ = State::kFinished;
      }
      return;  // EAGAIN: the socket is full until the next EV_WRITE edge
    }
  }
  output_ = std::string();
  // A close while the client's unread bytes wait would send a reset, which can destroy the
  // response before the client reads it: shut our side and let the client close first.
  ::shutdown(fd(), SHUT_WR);
  state_ = State::kLingering;
  discardInput();
}

void AdminConnection::discardInput() {
  char buffer[4096];
  for (int i = 0; i < kReadsPerEvent; ++i) {
    const ssize_t n = common::rawRead(fd(), buffer, sizeof buffer);
    if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) {
      state_ = State::kFinished;  // the client's EOF (or an error): the close is clean now
      return;
    }
    if (n < 0 && errno == EAGAIN) {
      return;
    }
  }
  event_.activate(EV_READ);  // more may be waiting: come back after the other connections
}

void AdminConnection::expire() {
  if (state_ == State::kReading) {
    // Best effort: one send, whatever the socket takes now.
    const std::string response =
        textResponse(408, "Request Timeout", "request not complete within --admin_timeout_s\n");
    (void)common::rawSend(fd(), response.data(), response.size());
  }
  if (state_ == State::kReading || state_ == State::kWriting) {
    server_.counters().timed_out.add();
  }
  state_ = State::kFinished;
}

}  // namespace reactord::server
