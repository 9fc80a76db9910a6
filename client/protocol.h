#pragma once

#include <optional>
#include <string_view>

namespace reactord::client {

// What the server does with the bytes it receives (see the server's --protocol).
enum class Protocol {
  kEcho,  // RFC 862: every byte comes back
  kAck,   // '\n'-terminated lines; each one is answered with kAckReply
};

inline constexpr std::string_view kAckReply = "Message received\n";

// "echo" or "ack"; nullopt otherwise.
inline std::optional<Protocol> parseProtocol(std::string_view name) {
  if (name == "echo") {
    return Protocol::kEcho;
  }
  if (name == "ack") {
    return Protocol::kAck;
  }
  return std::nullopt;
}

inline const char* protocolName(Protocol protocol) {
  return protocol == Protocol::kEcho ? "echo" : "ack";
}

}  // namespace reactord::client
