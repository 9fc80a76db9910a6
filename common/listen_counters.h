#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace reactord::common {

// The kernel's counters of connections a listener could not take, for the whole network namespace
// (in a container: the container's), since the namespace was made:
//   overflows  ListenOverflows: handshakes dropped because an accept queue was full;
//   drops      ListenDrops: every connection dropped on its way into a listener (overflows
//              included, plus failures such as no memory for the socket).
struct ListenCounters {
  uint64_t overflows = 0;
  uint64_t drops = 0;
};

// Parses the text of /proc/net/netstat: pairs of lines "TcpExt: Name1 Name2 ..." and
// "TcpExt: 1 2 ...", each field after one space as the kernel writes them. nullopt, with the
// reason in `error`, when the TcpExt pair is missing, the two lines do not have the same number of
// fields, either counter is not there, or its value is not a number. Pure; any thread.
std::optional<ListenCounters> parseListenCounters(std::string_view netstat, std::string* error);

// Reads and parses `path` (by default this process's network namespace). Any thread.
std::optional<ListenCounters> readListenCounters(std::string* error,
                                                 const std::string& path = "/proc/net/netstat");

}  // namespace reactord::common
