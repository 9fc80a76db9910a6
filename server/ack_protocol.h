#pragma once

#include <cstddef>
#include <cstdint>

#include "common/line_framer.h"
#include "server/connection.h"

namespace reactord::server {

// The asyncio tutorial's Protocol server: one common::kAckReply per '\n'-terminated message. A
// message longer than --max_message_bytes gets common::kTooLongReply and the connection closes; a
// message still unfinished after --message_timeout_s of the server reading (slowloris) gets
// common::kMessageTimeoutReply and the connection closes. At EOF, a last unterminated message is
// answered too. Holds eight bytes of state per connection. See ProtocolConnection for the
// interface.
class AckProtocol {
 public:
  // One read; its replies are at most 17 times as many bytes.
  static constexpr size_t kReadBytes = size_t{16} * 1024;

  AckProtocol();
  void onInput(Connection& connection, const char* data, size_t size);
  void onInputEnd(Connection& connection);
  void onTick(Connection& connection, uint32_t now_tick);

 private:
  void sendAcks(Connection& connection, size_t count);

  common::LineFramer framer_;
  uint32_t message_tick_ = 0;  // when the unfinished message began, in reading time
};

}  // namespace reactord::server
