#pragma once

#include <cerrno>
#include <utility>

#include "common/raw_io.h"
#include "server/connection.h"

namespace reactord::server {

// A connection whose input goes to the protocol P. The read loop lives here, in the template, so
// that the protocol's handler is called directly (inlined) on every read: the protocol is chosen
// once per worker, never per read. P provides:
//   static constexpr size_t kReadBytes;                     // the size of one read, <=
//   kScratchBytes void onInput(Connection&, const char* data, size_t n);  // a read's bytes void
//   onInputEnd(Connection&);                           // no more input will be served void
//   onTick(Connection&, uint32_t now_tick);            // the protocol's own timeouts
// and answers with Connection::send() and closeAfterFlush().
template <typename P>
class ProtocolConnection final : public Connection {
 public:
  static_assert(P::kReadBytes <= kScratchBytes, "a read must fit the worker's scratch buffer");

  ProtocolConnection(const ConnectionContext& context, common::UniqueFd fd, const IpKey& peer)
      : Connection(context, std::move(fd), peer, &ProtocolConnection::onEvent) {}

  // Bytes read before the connection existed (those that followed a PROXY protocol header in the
  // same read), handled as its first read. Called once, right after construction, and never with
  // more than one read's worth; the owner checks finished() afterwards.
  void takeInitialInput(const char* data, size_t size) {
    countRead(size);
    protocol_.onInput(*this, data, size);
    if (context().oneshot) {
      if (reading()) {
        finishInput();
      }
      return;
    }
    applyBackpressure();
  }

  void onTick(uint32_t now_tick) override {
    if (!transportTimeouts(now_tick) && !finished()) {
      protocol_.onTick(*this, now_tick);
    }
  }

 private:
  static void onEvent(int /*fd*/, short what, void* self) {
    auto* connection = static_cast<ProtocolConnection*>(self);
    if (connection->prepareRead(what)) {
      connection->readInput();
    }
    if (connection->finished()) {
      connection->context().owner->connectionFinished(*connection);  // destroys it
    }
  }

  void readInput() {
    char* const buffer = context().scratch;
    for (int i = 0; i < kReadsPerEvent; ++i) {
      const ssize_t n = common::rawRead(fd(), buffer, P::kReadBytes);
      if (n > 0) {
        countRead(n);
        protocol_.onInput(*this, buffer, n);
        if (context().oneshot) {
          // The tutorial server: one read, answered as if the client had half-closed.
          if (reading()) {
            finishInput();
          }
          return;
        }
        applyBackpressure();
        if (!reading()) {
          return;  // the protocol closes, or the output is over the limit
        }
        // Edge-triggered: a short read emptied the socket, and new data brings a new edge. After
        // the peer shut its side, read on to see the EOF, which brings no edge of its own.
        if (static_cast<size_t>(n) < P::kReadBytes && !peerShutWrite()) {
          return;
        }
      } else if (n == 0) {
        onPeerClosed();
        finishInput();
        return;
      } else if (errno != EINTR) {
        if (errno != EAGAIN) {
          fail(errno);
        }
        return;
      }
    }
    readAgainLater();  // more may be waiting: come back after the other connections
  }

  void finishInput() {
    protocol_.onInputEnd(*this);
    closeAfterFlush();
  }

  P protocol_;
};

}  // namespace reactord::server
