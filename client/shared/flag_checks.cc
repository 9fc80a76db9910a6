#include "client/shared/flag_checks.h"

#include <cstdio>

#include "client/shared/protocol.h"
#include "client/shared/proxy_header_option.h"

namespace reactord::client {
namespace {

bool inRange(const char* flag, int64_t value, int64_t low, int64_t high) {
  if (value >= low && value <= high) {
    return true;
  }
  std::fprintf(stderr, "--%s must be in %lld..%lld, not %lld\n", flag, static_cast<long long>(low),
               static_cast<long long>(high), static_cast<long long>(value));
  return false;
}

}  // namespace

bool validPort(const char* flag, int32_t value) { return inRange(flag, value, 1, 65535); }

bool validPositive(const char* flag, int32_t value) { return inRange(flag, value, 1, INT32_MAX); }

bool validThreads(const char* flag, int32_t value) { return inRange(flag, value, 1, 64); }

bool validSocketBuffer(const char* flag, int32_t value) {
  return inRange(flag, value, 0, 64 << 20);
}

bool validMessageBytes(const char* flag, int32_t value) {
  return inRange(flag, value, 1, 16 << 20);
}

bool validNonNegative(const char* flag, double value) {
  if (value >= 0 && value <= 1e7) {
    return true;
  }
  std::fprintf(stderr, "--%s must be in [0, 1e7], not %g\n", flag, value);
  return false;
}

bool validProtocol(const char* flag, const std::string& value) {
  return validChoice(flag, value, parseProtocol(value).has_value(), "echo or ack");
}

bool validProxyHeader(const char* flag, const std::string& value) {
  return validChoice(flag, value, parseProxyHeaderKind(value).has_value(),
                     "none, v1, v2 or v2-local");
}

bool validProxySource(const char* flag, const std::string& value) {
  std::optional<common::SocketAddress> source;
  std::string error;
  if (!parseProxySource(value, &source, &error)) {
    std::fprintf(stderr, "%s\n", error.c_str());
    return false;
  }
  return true;
}

bool validChoice(const char* flag, const std::string& value, bool valid, const char* choices) {
  if (!valid) {
    std::fprintf(stderr, "--%s must be %s, not '%s'\n", flag, choices, value.c_str());
  }
  return valid;
}

}  // namespace reactord::client
