#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace reactord::common {

// Where the cgroup probes read. Tests point these at a fake tree.
struct CgroupPaths {
  std::string proc_self = "/proc/self";  // holds `cgroup` and `mountinfo`
  std::string root;                      // prefixed to every mount point from mountinfo
};

enum class CgroupVersion { kV1, kV2 };

// The directories of this process's cgroup, innermost first, up to and including the mount point
// of its hierarchy (where a container's view stops): for kV2 the unified hierarchy (the "0::" line
// of /proc/self/cgroup, a mount of type cgroup2); for kV1 the hierarchy of `v1_controller` ("cpu",
// "memory": the line and the cgroup mount that name it). Found through /proc/self/cgroup and
// /proc/self/mountinfo; empty when the hierarchy is not visible. Any thread.
std::vector<std::string> cgroupDirs(const CgroupPaths& paths, CgroupVersion version,
                                    std::string_view v1_controller);

}  // namespace reactord::common
