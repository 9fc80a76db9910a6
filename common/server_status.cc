#include "common/server_status.h"

#include <charconv>
#include <map>
#include <utility>

namespace reactord::common {
namespace {

// "1.2.3.4:80" or "[::1]:80"; nullopt for anything else (a name, a missing or bad port).
std::optional<SocketAddress> parseHostPort(std::string_view text) {
  const size_t colon = text.rfind(':');
  if (colon == std::string_view::npos || colon + 1 == text.size()) {
    return std::nullopt;
  }
  std::string_view ip = text.substr(0, colon);
  const std::string_view port_text = text.substr(colon + 1);
  if (ip.size() >= 2 && ip.front() == '[' && ip.back() == ']') {
    ip = ip.substr(1, ip.size() - 2);
  } else if (ip.find(':') != std::string_view::npos) {
    return std::nullopt;  // IPv6 without brackets: the port is ambiguous
  }
  unsigned port = 0;
  const auto [end, ec] = std::from_chars(port_text.begin(), port_text.end(), port);
  if (ec != std::errc() || end != port_text.end() || port == 0 || port > 65535) {
    return std::nullopt;
  }
  auto address = SocketAddress::parse(ip, static_cast<uint16_t>(port));
  if (address && (address->isIpv6Any() || address->ipString() == "0.0.0.0")) {
    return std::nullopt;  // a wildcard is where a server listens, not where a checker connects
  }
  return address;
}

}  // namespace

std::string ServerStatus::format() const {
  return "address=" + address.toString() + " protocol=" + protocol +
         " oneshot=" + (oneshot ? "1" : "0") + " proxy_protocol=" + (proxy_protocol ? "1" : "0") +
         " pid=" + std::to_string(pid) + "\n";
}

std::optional<ServerStatus> ServerStatus::parse(std::string_view text, std::string* error) {
  if (text.empty() || text.back() != '\n' || text.find('\n') != text.size() - 1) {
    *error = text.empty() ? "empty" : "not one line ending in a newline";
    return std::nullopt;
  }
  text.remove_suffix(1);
  std::map<std::string, std::string, std::less<>> fields;
  while (!text.empty()) {
    const size_t space = text.find(' ');
    const std::string_view token = text.substr(0, space);
    text = space == std::string_view::npos ? std::string_view() : text.substr(space + 1);
    const size_t equals = token.find('=');
    if (equals == std::string_view::npos || equals == 0) {
      *error = "'" + std::string(token) + "' is not key=value";
      return std::nullopt;
    }
    if (!fields.emplace(token.substr(0, equals), token.substr(equals + 1)).second) {
      *error = "key '" + std::string(token.substr(0, equals)) + "' appears twice";
      return std::nullopt;
    }
  }
  ServerStatus status;
  const auto address = fields.find("address");
  const auto protocol = fields.find("protocol");
  if (address == fields.end() || protocol == fields.end()) {
    *error = "address and protocol are required";
    return std::nullopt;
  }
  const auto parsed = parseHostPort(address->second);
  if (!parsed) {
    *error = "address=" + address->second + " is not a non-wildcard IP:PORT";
    return std::nullopt;
  }
  status.address = *parsed;
  if (protocol->second != "echo" && protocol->second != "ack") {
    *error = "protocol=" + protocol->second + " is neither echo nor ack";
    return std::nullopt;
  }
  status.protocol = protocol->second;
  for (const auto& [key, flag] : {std::pair{"oneshot", &status.oneshot},
                                  std::pair{"proxy_protocol", &status.proxy_protocol}}) {
    if (const auto found = fields.find(key); found != fields.end()) {
      if (found->second != "0" && found->second != "1") {
        *error = std::string(key) + "=" + found->second + " is neither 0 nor 1";
        return std::nullopt;
      }
      *flag = found->second == "1";
    }
  }
  if (const auto pid = fields.find("pid"); pid != fields.end()) {
    const std::string& value = pid->second;
    const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), status.pid);
    if (ec != std::errc() || end != value.data() + value.size() || status.pid <= 0) {
      *error = "pid=" + value + " is not a process id";
      return std::nullopt;
    }
  }
  return status;
}

SocketAddress ServerStatus::probeAddressFor(const SocketAddress& bound) {
  if (bound.isIpv6Any() || bound.ipString() == "0.0.0.0") {
    return *SocketAddress::parse("127.0.0.1", bound.port());
  }
  return bound;
}

}  // namespace reactord::common
