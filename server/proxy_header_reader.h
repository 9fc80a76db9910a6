#pragma once

#include <sys/socket.h>

#include <cstddef>
#include <cstdint>

#include "common/event.h"
#include "common/proxy_header_parser.h"
#include "common/unique_fd.h"
#include "server/connection_context.h"

namespace reactord::server {

class ProxyHeaderReader;

// Who owns a worker's header readers, as a reader sees it: told once, from inside the reader's
// callback, that its header is complete or that it gave up; it destroys the reader there.
// Loop-thread-only.
class ProxyHeaderOwner {
 public:
  // `data`, `size`: the client's bytes that followed the header in the same read, in the worker's
  // scratch buffer (valid during the call only).
  virtual void proxyHeaderDone(ProxyHeaderReader& reader, const char* data, size_t size) = 0;
  // The reader refused the header, or the client went away first; the reason is counted.
  virtual void proxyHeaderFailed(ProxyHeaderReader& reader) = 0;

 protected:
  ~ProxyHeaderOwner() = default;
};

// The stage before a connection when --proxy_protocol is on: owns one accepted socket (from a
// trusted source) until its PROXY protocol header is complete, refused, or late. It reads what the
// socket has (at most one protocol read), feeds the parser, and on the first byte that cannot be a
// header, on EOF or on a reset tells its owner and counts why (proxy_rejected{reason}); on the
// header's end it counts proxy_accepted and hands over the bytes that followed. Holds the socket,
// one event and the parser: 752 bytes, whatever the header's length. No write, no reply.
//
// Owned by its worker (a table indexed by fd), used only on that worker's thread, destroyed by the
// worker from inside its callback (ProxyHeaderOwner) or from the tick that found it expired.
class ProxyHeaderReader {
 public:
  // Reads at most `read_bytes` (<= kScratchBytes) at a time into the context's scratch buffer;
  // `peer` is the socket's peer; past `deadline_tick` expired() ends it.
  ProxyHeaderReader(const ConnectionContext& context, ProxyHeaderOwner& owner, size_t read_bytes,
                    common::UniqueFd fd, const sockaddr_storage& peer, uint32_t deadline_tick);
  ProxyHeaderReader(const ProxyHeaderReader&) = delete;
  ProxyHeaderReader& operator=(const ProxyHeaderReader&) = delete;

  int fd() const { return fd_.get(); }
  // The socket's peer: the balancer.
  const sockaddr_storage& socketPeer() const { return peer_; }
  // Once done: the header, and the client's address (the header's source; the socket's peer for
  // v1 UNKNOWN, v2 LOCAL and the v2 families without an IP address).
  const common::ProxyHeader& header() const { return parser_.header(); }
  const sockaddr_storage& clientAddress() const;
  // On each tick: true (and counted as a timeout) once the deadline has passed without a whole
  // header; the owner then destroys the reader.
  bool expired(uint32_t now_tick);
  // Gives the socket up (to the connection made from it); the reader is done with.
  common::UniqueFd takeFd();

 private:
  static void onEvent(int fd, short what, void* self);
  void onReadable();
  // Counts a refused header by its class and tells the owner.
  void refuse(common::ProxyHeaderError error);
  // The client closed or reset the connection before its header was complete.
  void giveUp(const char* why);

  const ConnectionContext& context_;
  ProxyHeaderOwner& owner_;
  const size_t read_bytes_;
  common::UniqueFd fd_;  // declared before event_: closed after it
  common::Event event_;
  sockaddr_storage peer_;
  const uint32_t deadline_tick_;
  common::ProxyHeaderParser parser_;
};

}  // namespace reactord::server
