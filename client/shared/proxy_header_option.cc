#include "client/shared/proxy_header_option.h"

#include "common/proxy_header_writer.h"

namespace reactord::client {

std::optional<ProxyHeaderKind> parseProxyHeaderKind(std::string_view name) {
  if (name == "none") {
    return ProxyHeaderKind::kNone;
  }
  if (name == "v1") {
    return ProxyHeaderKind::kV1;
  }
  if (name == "v2") {
    return ProxyHeaderKind::kV2;
  }
  if (name == "v2-local") {
    return ProxyHeaderKind::kV2Local;
  }
  return std::nullopt;
}

std::optional<std::string> ProxyHeaderOption::headerFor(int fd) const {
  if (kind == ProxyHeaderKind::kNone) {
    return std::string();
  }
  if (kind == ProxyHeaderKind::kV2Local) {
    return common::proxyHeaderV2Local();
  }
  const auto local = common::SocketAddress::localOf(fd);
  const auto peer = common::SocketAddress::peerOf(fd);
  if (!local || !peer) {
    return std::nullopt;
  }
  common::SocketAddress client = source.value_or(*local);
  client.setPort(local->port());
  return kind == ProxyHeaderKind::kV1 ? common::proxyHeaderV1(client, *peer)
                                      : common::proxyHeaderV2(client, *peer);
}

bool parseProxySource(const std::string& text, std::optional<common::SocketAddress>* source,
                      std::string* error) {
  source->reset();
  if (text.empty()) {
    return true;
  }
  *source = common::SocketAddress::parse(text, 0);
  if (!*source) {
    *error = "--proxy_source must be a numeric IPv4 or IPv6 address, not '" + text + "'";
    return false;
  }
  return true;
}

}  // namespace reactord::client
