#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/socket_address.h"

namespace reactord::client {

// The addresses to try for `host` (an IPv4 or IPv6 literal, or a name looked up with getaddrinfo,
// in its order) and `port`. Empty, with `error` set, when there is none. Any thread; may block on
// name resolution.
std::vector<common::SocketAddress> resolveAddresses(const std::string& host, uint16_t port,
                                                    std::string* error);

// The first of resolveAddresses(), or nullopt with `error` set.
std::optional<common::SocketAddress> resolveAddress(const std::string& host, uint16_t port,
                                                    std::string* error);

}  // namespace reactord::client
