#include "common/cpu_count.h"

#include <sched.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <limits>
#include <optional>

namespace reactord::common {
namespace {

struct Quota {
  long long quota_us = 0;
  long long period_us = 0;
  std::string dir;
  // CPUs the quota allows, rounded up; saturates rather than overflowing on absurd values.
  int cpus() const {
    const long long whole = quota_us / period_us + (quota_us % period_us != 0 ? 1 : 0);
    return static_cast<int>(std::min<long long>(whole, std::numeric_limits<int>::max()));
  }
};

std::optional<Quota> readQuota(const std::string& dir, CgroupVersion version) {
  Quota quota;
  quota.dir = dir;
  if (version == CgroupVersion::kV2) {
    std::ifstream file(dir + "/cpu.max");
    std::string max;
    if (!(file >> max >> quota.period_us) || max == "max") {
      return std::nullopt;
    }
    const auto [end, error] = std::from_chars(max.data(), max.data() + max.size(), quota.quota_us);
    if (error != std::errc() || end != max.data() + max.size()) {
      return std::nullopt;  // not a number, or out of range: treat the file as unreadable
    }
  } else {
    std::ifstream quota_file(dir + "/cpu.cfs_quota_us");
    std::ifstream period_file(dir + "/cpu.cfs_period_us");
    if (!(quota_file >> quota.quota_us) || !(period_file >> quota.period_us)) {
      return std::nullopt;
    }
  }
  if (quota.quota_us <= 0 || quota.period_us <= 0) {
    return std::nullopt;
  }
  return quota;
}

// The smallest quota on the way from this process's cgroup up to the mount point.
std::optional<Quota> tightestQuota(const CpuProbePaths& paths, CgroupVersion version) {
  std::optional<Quota> best;
  for (const std::string& dir : cgroupDirs(paths, version, "cpu")) {
    const auto quota = readQuota(dir, version);
    if (quota && (!best || quota->cpus() < best->cpus())) {
      best = quota;
    }
  }
  return best;
}

}  // namespace

int affinityCpuCount() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) != 0) {
    return 1;
  }
  return std::max(1, CPU_COUNT(&set));
}

CpuCount probeUsableCpus(int affinity_cpus, const CpuProbePaths& paths) {
  CpuCount result{std::max(1, affinity_cpus), "affinity mask"};
  std::optional<Quota> quota = tightestQuota(paths, CgroupVersion::kV2);
  const char* kind = "cgroup v2 cpu.max";
  if (!quota) {
    quota = tightestQuota(paths, CgroupVersion::kV1);
    kind = "cgroup v1 cpu.cfs_quota_us";
  }
  if (quota && quota->cpus() < result.count) {
    result.count = std::max(1, quota->cpus());
    result.source = std::string(kind) + " " + std::to_string(quota->quota_us) + "/" +
                    std::to_string(quota->period_us) + " in " + quota->dir;
  } else if (quota) {
    result.source += " (cgroup quota " + std::to_string(quota->quota_us) + "/" +
                     std::to_string(quota->period_us) + " allows more)";
  }
  return result;
}

}  // namespace reactord::common
