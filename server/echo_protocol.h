#pragma once

#include <cstddef>
#include <cstdint>

#include "server/connection.h"

namespace reactord::server {

// RFC 862: every byte comes back, in order, for as long as the connection lasts. No state: an
// echo connection is its transport only. See ProtocolConnection for the interface.
class EchoProtocol {
 public:
  static constexpr size_t kReadBytes = kScratchBytes;

  void onInput(Connection& connection, const char* data, size_t size) {
    connection.send(data, size);
  }
  void onInputEnd(Connection& /*connection*/) {}
  void onTick(Connection& /*connection*/, uint32_t /*now_tick*/) {}
};

}  // namespace reactord::server
