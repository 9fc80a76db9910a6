#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace reactord::common {

// What Prometheus client libraries export as process_* series, read from /proc.
struct ProcessStats {
  uint64_t open_fds = 0;        // entries of /proc/self/fd (the descriptor that lists them aside)
  uint64_t max_fds = 0;         // the soft RLIMIT_NOFILE ("Max open files")
  uint64_t resident_bytes = 0;  // resident set size
  uint64_t virtual_bytes = 0;   // virtual memory size
  double cpu_seconds = 0;       // user + system CPU time
  double start_time_s = 0;      // process start, seconds since the Unix epoch
};

// The fields of /proc/PID/stat that ProcessStats needs, in the kernel's units.
struct ProcStat {
  uint64_t utime_ticks = 0;  // field 14
  uint64_t stime_ticks = 0;  // field 15
  uint64_t start_ticks = 0;  // field 22: since boot
  uint64_t vsize_bytes = 0;  // field 23
  uint64_t rss_pages = 0;    // field 24
};

// Parsers of the text of the /proc files, pure (any thread); nullopt when the text is malformed.
// /proc/PID/stat: the command name (field 2) may hold spaces and ')': fields are counted after its
// last ')'.
std::optional<ProcStat> parseProcStat(std::string_view text);
// /proc/PID/limits: the soft limit of "Max open files" ("unlimited" is UINT64_MAX).
std::optional<uint64_t> parseMaxOpenFiles(std::string_view limits);
// /proc/stat: "btime", the boot time in seconds since the Unix epoch.
std::optional<uint64_t> parseBootTime(std::string_view stat);

// Puts the parsed pieces together, with the clock ticks per second and the page size.
ProcessStats makeProcessStats(const ProcStat& stat, uint64_t boot_time_s, uint64_t max_fds,
                              uint64_t open_fds, uint64_t ticks_per_second, uint64_t page_size);

// Reads this process's figures from /proc/self and /proc/stat. nullopt, with the file in `error`,
// when one cannot be read or parsed. A few syscalls and a listing of the descriptor table: for a
// scrape, not for a hot path. Any thread.
std::optional<ProcessStats> readProcessStats(std::string* error);

}  // namespace reactord::common
