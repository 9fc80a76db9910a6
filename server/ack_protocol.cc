#include "server/ack_protocol.h"

#include <glog/logging.h>

#include <string>

#include "common/wire_protocol.h"

namespace reactord::server {
namespace {

using common::kAckReply;

// kAckReply repeated kReadBytes times: a read's acknowledgements are one write, and what the
// socket does not take is owed as a count (Connection::sendReplies).
const common::RepeatedReply& ackReplies() {
  static const std::string batch = [] {
    std::string text;
    text.reserve(kAckReply.size() * AckProtocol::kReadBytes);
    for (size_t i = 0; i < AckProtocol::kReadBytes; ++i) {
      text += kAckReply;
    }
    return text;
  }();
  static const common::RepeatedReply replies{kAckReply, batch.data(), AckProtocol::kReadBytes};
  return replies;
}

}  // namespace

AckProtocol::AckProtocol() {
  ackReplies();  // built once, on first use, off the per-message path
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
    connection.sendLast(common::kTooLongReply);
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
    connection.sendLast(common::kMessageTimeoutReply);
    connection.closeAfterFlush();
  }
}

void AckProtocol::sendAcks(Connection& connection, size_t count) {
  if (count == 0) {
    return;
  }
  connection.context().stats->messages.add(count);
  connection.sendReplies(ackReplies(), count);  // one read: at most kReadBytes replies
}

}  // namespace reactord::server
