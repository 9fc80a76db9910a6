#pragma once

#include <optional>
#include <string_view>

namespace reactord::common {

// What reactord does with the bytes it receives (--protocol), and the bytes it answers with: the
// wire contract between the server and the client tools, defined once for both.
enum class Protocol {
  kEcho,  // RFC 862: every byte comes back, for as long as the connection lasts
  kAck,   // '\n'-terminated messages; each one is answered with kAckReply
};

inline constexpr std::string_view kAckReply = "Message received\n";
// ack: the last line before the server closes a connection whose message broke a limit.
inline constexpr std::string_view kTooLongReply = "ERR message too long\n";
inline constexpr std::string_view kMessageTimeoutReply = "ERR message timeout\n";

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

}  // namespace reactord::common
