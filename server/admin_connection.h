#pragma once

#include <event2/event.h>

#include <cstddef>
#include <string>
#include <string_view>

#include "common/event.h"
#include "common/unique_fd.h"

namespace reactord::server {

class AdminServer;

// A plain-text response that ends the connection, for answers that need no request: 400, 408,
// 431, 503, 505. Any thread.
std::string textResponse(int status, std::string_view reason, std::string_view body);

// One connection to the admin endpoint: reads one request head (kMaxHeadBytes at most), sends one
// response (Connection: close), shuts its sending side and discards input until the client's EOF,
// so that a close never resets the response away. Its whole life fits in the deadline it is given
// at accept (--admin_timeout_s), which arriving bytes do not extend: a client that trickles its
// request is closed there, with 408 if its request was unfinished.
// Owned by the AdminServer (its table of connections) and used on the admin thread only; the
// AdminServer destroys it at the end of the callback that finished it, or after the admin thread
// was joined.
class AdminConnection {
 public:
  static constexpr size_t kMaxHeadBytes = size_t{8} * 1024;

  AdminConnection(AdminServer& server, event_base* base, common::UniqueFd fd,
                  const timeval& deadline);
  AdminConnection(const AdminConnection&) = delete;
  AdminConnection& operator=(const AdminConnection&) = delete;

  bool finished() const { return state_ == State::kFinished; }

 private:
  enum class State { kReading, kWriting, kLingering, kFinished };

  static void onEvent(int fd, short what, void* self);
  static void onDeadline(int fd, short what, void* self);
  void handleEvent(short what);
  void readRequest();
  // Answers the head in input_, or with an error when it is not a request.
  void answer();
  void respond(std::string response);
  void writeResponse();
  void discardInput();
  void expire();
  int fd() const { return fd_.get(); }

  AdminServer& server_;
  common::UniqueFd fd_;     // declared before the events: closed after they are removed
  common::Event event_;     // read, write and peer-close, edge-triggered, for the whole life
  common::Event deadline_;  // one shot, from accept: traffic does not restart it
  std::string input_;       // the request head so far; freed once answered
  std::string output_;      // the response; its first sent_ bytes are out
  size_t sent_ = 0;
  State state_ = State::kReading;
};

}  // namespace reactord::server
