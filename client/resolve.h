#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "common/socket_address.h"

namespace reactord::client {

// The address to connect to for `host` (an IPv4 or IPv6 literal, or a name looked up with
// getaddrinfo, first answer wins) and `port`. On failure returns nullopt and sets `error`. Any
// thread; may block on name resolution.
std::optional<common::SocketAddress> resolveAddress(const std::string& host, uint16_t port,
                                                    std::string* error);

}  // namespace reactord::client
