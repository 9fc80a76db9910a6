// libFuzzer target for the cgroup probes' parsers (the CPU count and the memory limit share the
// cgroup discovery): /proc/self/cgroup, /proc/self/mountinfo, the limit files (cpu.max, cpu.cfs_*,
// memory.max, memory.limit_in_bytes, all with the same text) and /proc/meminfo come from the
// input (four parts split at '\0'), written into a private tree. Whatever they hold, the CPU
// probe returns between 1 and the affinity count, and the memory probe a positive limit with a
// source, never above what the same meminfo alone gives.
#include <stdlib.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "common/cpu_count.h"
#include "common/memory_limit.h"

namespace {

namespace fs = std::filesystem;

const std::string& root() {
  static const std::string dir = [] {
    const fs::path tmp = fs::exists("/dev/shm") ? fs::path("/dev/shm") : fs::temp_directory_path();
    std::string pattern = (tmp / "cpu_count_fuzz.XXXXXX").string();
    return std::string(mkdtemp(pattern.data()));
  }();
  return dir;
}

void put(const std::string& path, std::string_view text) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path, std::ios::trunc).write(text.data(), text.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  if (input.find("..") != std::string_view::npos) {
    return 0;  // keep every path the probe builds inside the private tree
  }
  const size_t first = input.find('\0');
  const size_t second = first == std::string_view::npos ? first : input.find('\0', first + 1);
  const size_t third = second == std::string_view::npos ? second : input.find('\0', second + 1);
  const std::string_view cgroup = input.substr(0, first);
  const std::string_view mountinfo =
      first == std::string_view::npos ? "" : input.substr(first + 1, second - first - 1);
  const std::string_view quota =
      second == std::string_view::npos ? "" : input.substr(second + 1, third - second - 1);
  const std::string_view meminfo = third == std::string_view::npos ? "" : input.substr(third + 1);

  const std::string& base = root();
  fs::remove_all(base + "/sys");
  put(base + "/proc/self/cgroup", cgroup);
  put(base + "/proc/self/mountinfo", mountinfo);
  put(base + "/proc/meminfo", meminfo);
  for (const char* file : {"cpu.max", "cpu.cfs_quota_us", "cpu.cfs_period_us", "memory.max",
                           "memory.limit_in_bytes"}) {
    put(base + "/sys/fs/cgroup/app/" + file, quota);
  }
  const reactord::common::CgroupPaths paths{base + "/proc/self", base};
  const reactord::common::CpuCount cpus = reactord::common::probeUsableCpus(4, paths);
  if (cpus.count < 1 || cpus.count > 4 || cpus.source.empty()) {
    std::abort();
  }
  const reactord::common::MemoryLimit limit =
      reactord::common::probeMemoryLimit(paths, base + "/proc/meminfo");
  const reactord::common::MemoryLimit machine =
      reactord::common::probeMemoryLimit({base + "/nowhere", base}, base + "/proc/meminfo");
  if (limit.bytes == 0 || limit.source.empty() || limit.bytes > machine.bytes) {
    std::abort();
  }
  return 0;
}
