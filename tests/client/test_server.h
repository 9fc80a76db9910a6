#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/proxy_header_parser.h"
#include "common/unique_fd.h"

namespace reactord::client::testing {

// A small server for the client tests, independent of reactord: one thread, poll(), loopback,
// port 0. kEcho and kAck behave like reactord's protocols (half-close: the rest is answered, then
// the server closes); kCorrupt echoes with one bit flipped in every 100th byte of each connection's
// stream; kSilent accepts and never answers. With `proxy_header`, every connection must begin
// with a PROXY protocol header, which is taken off the stream and kept (proxyHeaders()); a
// connection whose header fails is closed. Created and destroyed by the test thread; the
// destructor stops and joins the server thread, which owns every connection.
class TestServer {
 public:
  enum class Mode { kEcho, kAck, kCorrupt, kSilent };

  explicit TestServer(Mode mode, bool proxy_header = false);
  ~TestServer();
  TestServer(const TestServer&) = delete;
  TestServer& operator=(const TestServer&) = delete;

  uint16_t port() const { return port_; }
  // Thread-safe.
  uint64_t accepted() const { return accepted_.load(); }
  // Thread-safe: the PROXY headers read so far, and the connections closed for a bad one.
  std::vector<common::ProxyHeader> proxyHeaders() const;
  uint64_t proxyErrors() const { return proxy_errors_.load(); }

 private:
  struct Peer {
    common::UniqueFd fd;
    std::string out;        // bytes to send back
    uint64_t offset = 0;    // bytes received so far
    size_t line_bytes = 0;  // kAck: bytes of the unterminated line
    bool input_done = false;
    std::optional<common::ProxyHeaderParser> proxy;  // until the header is complete
  };

  void serve();
  void acceptAll();
  // False when the peer is finished (closed or failed).
  bool readFrom(Peer& peer);
  bool writeTo(Peer& peer);
  void answer(Peer& peer, const char* data, size_t size);
  // Takes the PROXY header off the front of `data`: false when it failed.
  bool takeProxyHeader(Peer& peer, const char** data, size_t* size);

  const Mode mode_;
  const bool proxy_header_;
  common::UniqueFd listener_;
  common::UniqueFd stop_fd_;  // eventfd: the destructor wakes the server thread
  uint16_t port_ = 0;
  std::atomic<uint64_t> accepted_{0};
  std::atomic<uint64_t> proxy_errors_{0};
  mutable std::mutex headers_mutex_;
  std::vector<common::ProxyHeader> headers_;  // guarded by headers_mutex_
  std::vector<Peer> peers_;                   // server thread only
  std::thread thread_;
};

}  // namespace reactord::client::testing
