#include "common/cgroup.h"

#include <algorithm>
#include <fstream>
#include <optional>
#include <sstream>
#include <utility>

namespace reactord::common {
namespace {

std::vector<std::string> split(const std::string& text, char separator) {
  std::vector<std::string> parts;
  std::stringstream stream(text);
  std::string part;
  while (std::getline(stream, part, separator)) {
    parts.push_back(part);
  }
  return parts;
}

bool contains(const std::vector<std::string>& items, std::string_view item) {
  return std::find(items.begin(), items.end(), item) != items.end();
}

// The cgroup path of this process: the "0::" line for v2, the line naming the controller for v1.
// Empty when there is none.
std::string cgroupPath(const std::string& proc_self, CgroupVersion version,
                       std::string_view controller) {
  std::ifstream file(proc_self + "/cgroup");
  std::string line;
  while (std::getline(file, line)) {
    const size_t first = line.find(':');
    const size_t second = line.find(':', first + 1);
    if (first == std::string::npos || second == std::string::npos) {
      continue;
    }
    const std::string controllers = line.substr(first + 1, second - first - 1);
    if (version == CgroupVersion::kV2 ? line.compare(0, second + 1, "0::") == 0
                                      : contains(split(controllers, ','), controller)) {
      return line.substr(second + 1);
    }
  }
  return {};
}

// The directory of `cgroup_path` in the cgroup filesystem mounted per mountinfo, and the mount
// point (where the walk up to ancestors stops). nullopt when no such mount is visible.
std::optional<std::pair<std::string, std::string>> cgroupDir(const CgroupPaths& paths,
                                                             CgroupVersion version,
                                                             std::string_view controller,
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
    const bool match = version == CgroupVersion::kV2
                           ? fstype == "cgroup2"
                           : fstype == "cgroup" && contains(split(*(dash + 3), ','), controller);
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

}  // namespace

std::vector<std::string> cgroupDirs(const CgroupPaths& paths, CgroupVersion version,
                                    std::string_view v1_controller) {
  const std::string path = cgroupPath(paths.proc_self, version, v1_controller);
  if (path.empty()) {
    return {};
  }
  const auto dirs = cgroupDir(paths, version, v1_controller, path);
  if (!dirs) {
    return {};
  }
  auto [dir, mount_point] = *dirs;
  std::vector<std::string> result;
  while (true) {
    result.push_back(dir);
    if (dir.size() <= mount_point.size()) {
      break;
    }
    dir.erase(dir.rfind('/'));
    if (dir.size() < mount_point.size()) {
      break;  // a malformed cgroup path: never read outside the hierarchy
    }
  }
  return result;
}

}  // namespace reactord::common
