#pragma once

#include <string>
#include <string_view>

namespace reactord::common {

// Turns a stats line ("stats interval_s=2.0 workers=2 ... worker_active=28,22", from
// formatStatsLine) into one JSON object with the same keys: {"event":"stats","interval_s":2.0,
// "workers":2,...,"worker_active":[28,22]}. The first word becomes "event"; numbers stay numbers;
// keys starting with "worker_" are per-worker lists, always arrays (one element per worker);
// anything else is a string. Any thread.
std::string statsLineToJson(std::string_view line);

}  // namespace reactord::common
