#pragma once

#include <cstdint>
#include <string>

#include "common/cgroup.h"

namespace reactord::common {

// How much memory this process may use before the kernel's OOM killer acts on it, and where the
// number came from, e.g. "cgroup v1 memory.limit_in_bytes in /sys/fs/cgroup/memory/app" or
// "MemTotal in /proc/meminfo".
struct MemoryLimit {
  uint64_t bytes = 0;
  std::string source;
};

// The smallest of: the memory limits of this process's cgroup and each of its ancestors up to the
// mount point (cgroup v2 `memory.max`, cgroup v1 `memory.limit_in_bytes`, both hierarchies when
// both are mounted), and the machine's memory (MemTotal of `meminfo`; sysconf's physical pages if
// that cannot be read). A limit of "max", or at or above the machine's memory (cgroup v1 writes
// "no limit" as LLONG_MAX rounded down to a page, 9223372036854771712), does not count; so do
// missing, unreadable or malformed files. Any thread.
MemoryLimit probeMemoryLimit(const CgroupPaths& paths = {},
                             const std::string& meminfo = "/proc/meminfo");

// `bytes` for a log line: "268435456 bytes, 256.0 MiB". Any thread.
std::string describeBytes(uint64_t bytes);

}  // namespace reactord::common
