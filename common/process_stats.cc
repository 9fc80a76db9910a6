#include "common/process_stats.h"

#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <limits>
#include <memory>
#include <vector>

#include "common/file_io.h"

namespace reactord::common {
namespace {

std::optional<uint64_t> parseNumber(std::string_view text) {
  uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) {
    return std::nullopt;
  }
  return value;
}

// The space-separated words of `text`.
std::vector<std::string_view> words(std::string_view text) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\n' || text[i] == '\t')) {
      ++i;
    }
    const size_t start = i;
    while (i < text.size() && text[i] != ' ' && text[i] != '\n' && text[i] != '\t') {
      ++i;
    }
    if (i > start) {
      out.push_back(text.substr(start, i - start));
    }
  }
  return out;
}

// The line of `text` that starts with `prefix`, without the prefix; nullopt if none.
std::optional<std::string_view> lineAfter(std::string_view text, std::string_view prefix) {
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t end = std::min(text.find('\n', pos), text.size());
    const std::string_view line = text.substr(pos, end - pos);
    if (line.starts_with(prefix)) {
      return line.substr(prefix.size());
    }
    pos = end + 1;
  }
  return std::nullopt;
}

// Open descriptors: the entries of /proc/self/fd but "." and ".." and the descriptor that lists
// them.
std::optional<uint64_t> countOpenFds() {
  std::unique_ptr<DIR, int (*)(DIR*)> dir(opendir("/proc/self/fd"), &closedir);
  if (dir == nullptr) {
    return std::nullopt;
  }
  const std::string own = std::to_string(dirfd(dir.get()));
  uint64_t count = 0;
  while (const dirent* entry = readdir(dir.get())) {
    const std::string_view name = entry->d_name;
    if (name != "." && name != ".." && name != own) {
      ++count;
    }
  }
  return count;
}

}  // namespace

std::optional<ProcStat> parseProcStat(std::string_view text) {
  const size_t name_end = text.rfind(')');
  if (name_end == std::string_view::npos || text.find('(') > name_end) {
    return std::nullopt;
  }
  // After the name: field 3 (state) is words[0], so field N is words[N - 3].
  const std::vector<std::string_view> fields = words(text.substr(name_end + 1));
  if (fields.size() < 22) {
    return std::nullopt;
  }
  const auto utime = parseNumber(fields[14 - 3]);
  const auto stime = parseNumber(fields[15 - 3]);
  const auto start = parseNumber(fields[22 - 3]);
  const auto vsize = parseNumber(fields[23 - 3]);
  const auto rss = parseNumber(fields[24 - 3]);
  if (!utime || !stime || !start || !vsize || !rss) {
    return std::nullopt;
  }
  return ProcStat{*utime, *stime, *start, *vsize, *rss};
}

std::optional<uint64_t> parseMaxOpenFiles(std::string_view limits) {
  const auto rest = lineAfter(limits, "Max open files");
  if (!rest) {
    return std::nullopt;
  }
  const std::vector<std::string_view> fields = words(*rest);  // soft, hard, "files"
  if (fields.size() < 2) {
    return std::nullopt;
  }
  if (fields[0] == "unlimited") {
    return std::numeric_limits<uint64_t>::max();
  }
  return parseNumber(fields[0]);
}

std::optional<uint64_t> parseBootTime(std::string_view stat) {
  const auto rest = lineAfter(stat, "btime ");
  if (!rest) {
    return std::nullopt;
  }
  const std::vector<std::string_view> fields = words(*rest);
  if (fields.size() != 1) {
    return std::nullopt;
  }
  return parseNumber(fields[0]);
}

ProcessStats makeProcessStats(const ProcStat& stat, uint64_t boot_time_s, uint64_t max_fds,
                              uint64_t open_fds, uint64_t ticks_per_second, uint64_t page_size) {
  ProcessStats stats;
  stats.open_fds = open_fds;
  stats.max_fds = max_fds;
  stats.resident_bytes = stat.rss_pages * page_size;
  stats.virtual_bytes = stat.vsize_bytes;
  const double ticks = static_cast<double>(ticks_per_second);
  stats.cpu_seconds = static_cast<double>(stat.utime_ticks + stat.stime_ticks) / ticks;
  stats.start_time_s =
      static_cast<double>(boot_time_s) + static_cast<double>(stat.start_ticks) / ticks;
  return stats;
}

std::optional<ProcessStats> readProcessStats(std::string* error) {
  const auto stat_text = readFileText("/proc/self/stat");
  const auto limits_text = readFileText("/proc/self/limits");
  const auto boot_text = readFileText("/proc/stat");
  const std::optional<ProcStat> stat = stat_text ? parseProcStat(*stat_text) : std::nullopt;
  const std::optional<uint64_t> max_fds =
      limits_text ? parseMaxOpenFiles(*limits_text) : std::nullopt;
  const std::optional<uint64_t> boot = boot_text ? parseBootTime(*boot_text) : std::nullopt;
  const std::optional<uint64_t> open_fds = countOpenFds();
  const char* failed = !stat       ? "/proc/self/stat"
                       : !max_fds  ? "/proc/self/limits"
                       : !boot     ? "/proc/stat"
                       : !open_fds ? "/proc/self/fd"
                                   : nullptr;
  if (failed != nullptr) {
    *error = std::string("cannot read or parse ") + failed;
    return std::nullopt;
  }
  const long ticks = sysconf(_SC_CLK_TCK);
  const long page = sysconf(_SC_PAGESIZE);
  return makeProcessStats(*stat, *boot, *max_fds, *open_fds, ticks > 0 ? ticks : 100,
                          page > 0 ? page : 4096);
}

}  // namespace reactord::common
