#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

namespace reactord::testing {

// A real HAProxy (Debian's package) in front of one backend on loopback, in TCP mode, with two
// frontends on 127.0.0.1: v1Port() sends the backend a PROXY v1 header (send-proxy), v2Port() a v2
// header with two TLVs, a CRC32C and a unique id (send-proxy-v2 proxy-v2-options
// crc32c,unique-id). No health checks: every backend connection is a client's. Its configuration
// and log live in a private temporary directory, removed with it. Started by the constructor and
// stopped (SIGTERM, then SIGKILL) by the destructor; test-thread-only.
class HaproxyProcess {
 public:
  // The binary, or empty when HAProxy is not installed (tests skip then).
  static std::string binary();

  // Starts HAProxy in front of 127.0.0.1:backend_port and waits (up to 10 s) until both frontends
  // listen; started() tells whether they did, log() why not.
  explicit HaproxyProcess(uint16_t backend_port);
  ~HaproxyProcess();
  HaproxyProcess(const HaproxyProcess&) = delete;
  HaproxyProcess& operator=(const HaproxyProcess&) = delete;

  bool started() const { return started_; }
  uint16_t v1Port() const { return v1_port_; }
  uint16_t v2Port() const { return v2_port_; }
  // The configuration and what HAProxy wrote, for failure messages.
  std::string log() const;

 private:
  std::string dir_;
  pid_t pid_ = -1;
  uint16_t v1_port_ = 0;
  uint16_t v2_port_ = 0;
  bool started_ = false;
};

}  // namespace reactord::testing
