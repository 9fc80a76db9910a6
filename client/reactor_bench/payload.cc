#include "client/reactor_bench/payload.h"

#include <random>

#include "client/shared/protocol.h"

namespace reactord::client {

Payload::Payload(const std::string& one_period)
    : data_(one_period + one_period), period_(one_period.size()) {}

Payload Payload::echoStream() {
  std::mt19937_64 random(0x5eedf00dULL);
  std::string bytes(kMinPeriod + 7, '\0');  // odd length
  for (char& byte : bytes) {
    byte = static_cast<char>(random());
  }
  return Payload(std::move(bytes));
}

Payload Payload::ackRequests(size_t message_bytes) {
  std::mt19937_64 random(0xac4f00dULL);
  const size_t lines = (kMinPeriod + message_bytes - 1) / message_bytes;
  std::string bytes(lines * message_bytes, '\0');
  for (size_t i = 0; i < bytes.size(); ++i) {
    bytes[i] =
        i % message_bytes == message_bytes - 1 ? '\n' : static_cast<char>('!' + random() % 94);
  }
  return Payload(std::move(bytes));
}

Payload Payload::ackReplies() {
  std::string bytes;
  while (bytes.size() < kMinPeriod) {
    bytes += kAckReply;
  }
  return Payload(std::move(bytes));
}

}  // namespace reactord::client
