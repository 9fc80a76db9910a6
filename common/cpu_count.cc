#include "common/cpu_count.h"

#include <sched.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <limits>
#include <optional>
#include <sstream>
#include <vector>

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

std::vector<std::string> split(const std::string& text, char separator) {
  std::vector<std::string> parts;
  std::stringstream stream(text);
  std::string part;
  while (std::getline(stream, part, separator)) {
    parts.push_back(part);
  }
  return parts;
}

bool contains(const std::vector<std::string>& items, const std::string& item) {
  return std::find(items.begin(), items.end(), item) != items.end();
}

// The cgroup path of this process: the "0::" line for v2, the line naming the cpu controller for
// v1. Empty when there is none.
std::string cgroupPath(const std::string& proc_self, bool v2) {
  std::ifstream file(proc_self + "/cgroup");
  std::string line;
  while (std::getline(file, line)) {
    const size_t first = line.find(':');
    const size_t second = line.find(':', first + 1);
    if (first == std::string::npos || second == std::string::npos) {
      continue;
    }
    const std::string controllers = line.substr(first + 1, second - first - 1);
    if (v2 ? line.compare(0, second + 1, "0::") == 0 : contains(split(controllers, ','), "cpu")) {
      return line.substr(second + 1);
    }
  }
  return {};
}

// The directory of `cgroup_path` in the cgroup filesystem mounted per mountinfo, and the mount
// point (where the walk up to ancestors stops). nullopt when no such mount is visible.
std::optional<std::pair<std::string, std::string>> cgroupDir(const CpuProbePaths& paths, bool v2,
                                                             const std::string& cgroup_path) {
  std::ifstream file(paths.proc_self + "/mountinfo");
  std::string line;
  while (std::getline(file, line)) {
    const std::vector<std::string> fields = split(line, ' ');
    const auto dash = std::find(fields.begin(), fields.end(), "-");
    if (fields.size() < 5 || dash == fields.end() || fields.end() - dash < 4) {
      continue;
    }
    const std::string& fstype = *(dash + 1);
    const bool match =
        v2 ? fstype == "cgroup2" : fstype == "cgroup" && contains(split(*(dash + 3), ','), "cpu");
    if (!match) {
      continue;
    }
    const std::string& mount_root = fields[3];
    const std::string mount_point = paths.root + fields[4];
    std::string relative = cgroup_path;
    if (mount_root != "/" && cgroup_path.compare(0, mount_root.size(), mount_root) == 0) {
      relative = cgroup_path.substr(mount_root.size());  // a container sees its own cgroup as root
    }
    if (relative == "/") {
      relative.clear();
    }
    return std::make_pair(mount_point + relative, mount_point);
  }
  return std::nullopt;
}

std::optional<Quota> readQuota(const std::string& dir, bool v2) {
  Quota quota;
  quota.dir = dir;
  if (v2) {
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
std::optional<Quota> tightestQuota(const CpuProbePaths& paths, bool v2) {
  const std::string path = cgroupPath(paths.proc_self, v2);
  if (path.empty()) {
    return std::nullopt;
  }
  const auto dirs = cgroupDir(paths, v2, path);
  if (!dirs) {
    return std::nullopt;
  }
  auto [dir, mount_point] = *dirs;
  std::optional<Quota> best;
  while (true) {
    const auto quota = readQuota(dir, v2);
    if (quota && (!best || quota->cpus() < best->cpus())) {
      best = quota;
    }
    if (dir.size() <= mount_point.size()) {
      break;
    }
    dir.erase(dir.rfind('/'));
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
  std::optional<Quota> quota = tightestQuota(paths, /*v2=*/true);
  const char* kind = "cgroup v2 cpu.max";
  if (!quota) {
    quota = tightestQuota(paths, /*v2=*/false);
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
