#pragma once

#include <string>

#include "common/cgroup.h"

namespace reactord::common {

// How many CPUs this process may really use, and where the number came from, e.g.
// "cgroup v2 cpu.max 150000/100000 in /sys/fs/cgroup/app" or "affinity mask".
struct CpuCount {
  int count = 1;
  std::string source;
};

// Where the probe reads (the cgroup discovery is shared with the memory-limit probe).
using CpuProbePaths = CgroupPaths;

// The CPUs in this thread's affinity mask (sched_getaffinity), at least 1. Any thread.
int affinityCpuCount();

// min(affinity_cpus, the CPU quota of this process's cgroup and its ancestors, rounded up), at
// least 1. Reads cgroup v2 `cpu.max`, or cgroup v1 `cpu.cfs_quota_us` / `cpu.cfs_period_us`, in the
// directories found through /proc/self/cgroup and /proc/self/mountinfo. Unreadable or missing files
// mean "no quota". Any thread.
CpuCount probeUsableCpus(int affinity_cpus, const CpuProbePaths& paths = {});

}  // namespace reactord::common
