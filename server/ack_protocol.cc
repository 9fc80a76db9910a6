#include "server/ack_protocol.h"

#include <glog/logging.h>

#include <algorithm>
#include <string>

#include "common/wire_protocol.h"

namespace reactord::server {
namespace {

using common::kAckReply;

// kAckReply repeated kReadBytes times: a read's acknowledgements are one write.
const std::string& ackBatch() {
  static const std::string batch = [] {
    std::string text;
    text.reserve(kAckReply.size() * AckProtocol::kReadBytes);
    for (size_t i = 0; i < AckProtocol::kReadBytes; ++i) {
      text += kAckReply;
    }
    return text;
  }();
  return batch;
}

}  // namespace

AckProtocol::AckProtocol() {
  ackBatch();  // built once, on first use, off the per-message path
}

void AckProtocol::onInput(Connection& connection, const char* data, size_t size) {
  const ConnectionContext& context = connection.context();
  const size_t partial_before = framer_.partialBytes();
  const common::LineFramer::Scan scan = framer_.feed(data, size, context.max_message_bytes);
  if (framer_.partialBytes() > 0 && (scan.complete > 0 || partial_before == 0)) {
    message_tick_ = context.now();  // a new message began in this chunk
  }
  sendAcks(connection, scan.complete);
  if (scan.too_long) {
    context.stats->too_long.add();
    VLOG(1) << "fd " << connection.fd() << ": message over " << context.max_message_bytes
            << " bytes";
    connection.send(common::kTooLongReply.data(), common::kTooLongReply.size());
    connection.closeAfterFlush();
  }
}

void AckProtocol::onInputEnd(Connection& connection) {
  if (framer_.partialBytes() > 0) {
    sendAcks(connection, 1);  // a last message without its '\n'
  }
}

void AckProtocol::onTick(Connection& connection, uint32_t now_tick) {
  const uint32_t limit = connection.context().timeouts.message_ticks;
  if (limit == 0 || framer_.partialBytes() == 0) {
    return;
  }
  if (!connection.reading()) {
    // The server does not read (its own backpressure, or it is closing), so the client cannot
    // finish the message: the message's clock stands still. onTick runs once per tick.
    ++message_tick_;
    return;
  }
  if (now_tick - message_tick_ >= limit) {
    connection.context().stats->message_timeout_closed.add();
    connection.send(common::kMessageTimeoutReply.data(), common::kMessageTimeoutReply.size());
    connection.closeAfterFlush();
  }
}

void AckProtocol::sendAcks(Connection& connection, size_t count) {
  if (count == 0) {
    return;
  }
  connection.context().stats->messages.add(count);
  const std::string& batch = ackBatch();
  while (count > 0 && !connection.finished()) {
    const size_t replies = std::min(count, kReadBytes);
    connection.send(batch.data(), replies * kAckReply.size());
    count -= replies;
  }
}

}  // namespace reactord::server
