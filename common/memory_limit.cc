#include "common/memory_limit.h"

#include <unistd.h>

#include <charconv>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <optional>
#include <string_view>

namespace reactord::common {
namespace {

// A whole file that holds one unsigned decimal number, optionally followed by a newline. nullopt
// for "max", an empty or unreadable file, or anything else.
std::optional<uint64_t> readNumberFile(const std::string& path) {
  std::ifstream file(path);
  std::string text((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  if (!text.empty() && text.back() == '\n') {
    text.pop_back();
  }
  uint64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() || end != text.data() + text.size()) {
    return std::nullopt;
  }
  return value;
}

// MemTotal of /proc/meminfo ("MemTotal:       24683868 kB"), in bytes.
std::optional<uint64_t> memTotal(const std::string& meminfo) {
  std::ifstream file(meminfo);
  std::string line;
  while (std::getline(file, line)) {
    constexpr std::string_view kKey = "MemTotal:";
    if (line.compare(0, kKey.size(), kKey) != 0) {
      continue;
    }
    const size_t digits = line.find_first_not_of(' ', kKey.size());
    if (digits == std::string::npos) {
      return std::nullopt;
    }
    uint64_t kib = 0;
    const auto [end, error] = std::from_chars(line.data() + digits, line.data() + line.size(), kib);
    if (error != std::errc() || std::string_view(end, line.data() + line.size() - end) != " kB" ||
        kib == 0 || kib > UINT64_MAX / 1024) {
      return std::nullopt;
    }
    return kib * 1024;
  }
  return std::nullopt;
}

uint64_t physicalMemory() {
  const long pages = sysconf(_SC_PHYS_PAGES);
  const long page_size = sysconf(_SC_PAGESIZE);
  return pages > 0 && page_size > 0 ? uint64_t(pages) * uint64_t(page_size) : uint64_t{1} << 30;
}

// Lowers `limit` to the tightest limit file of the hierarchy, if one is below it.
void lowerToCgroup(const CgroupPaths& paths, CgroupVersion version, MemoryLimit* limit) {
  const char* const file = version == CgroupVersion::kV2 ? "memory.max" : "memory.limit_in_bytes";
  for (const std::string& dir : cgroupDirs(paths, version, "memory")) {
    const std::optional<uint64_t> bytes = readNumberFile(dir + "/" + file);
    if (bytes && *bytes > 0 && *bytes < limit->bytes) {
      limit->bytes = *bytes;
      limit->source = std::string(version == CgroupVersion::kV2 ? "cgroup v2 " : "cgroup v1 ") +
                      file + " in " + dir;
    }
  }
}

}  // namespace

MemoryLimit probeMemoryLimit(const CgroupPaths& paths, const std::string& meminfo) {
  MemoryLimit limit;
  if (const std::optional<uint64_t> total = memTotal(meminfo)) {
    limit = {*total, "MemTotal in " + meminfo};
  } else {
    limit = {physicalMemory(), "physical pages (sysconf)"};
  }
  lowerToCgroup(paths, CgroupVersion::kV2, &limit);
  lowerToCgroup(paths, CgroupVersion::kV1, &limit);
  return limit;
}

std::string describeBytes(uint64_t bytes) {
  char text[64];
  std::snprintf(text, sizeof text, "%llu bytes, %.1f MiB", static_cast<unsigned long long>(bytes),
                static_cast<double>(bytes) / (1 << 20));
  return text;
}

}  // namespace reactord::common
