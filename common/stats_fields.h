#pragma once

#include <cstdint>
#include <span>

#include "common/stats.h"

namespace reactord::common {

// One counter of StatsSnapshot, described once for every place that lists the counters: the
// /metrics exposition, /stats JSON. A new counter is one more row in statsFields().
struct StatsField {
  const char* key;          // the stats line's and the JSON's key: "rejected"
  const char* family;       // the Prometheus family without "reactord_" and "_total"
  const char* label_name;   // a label that tells the rows of one family apart, or nullptr
  const char* label_value;  // its value for this row
  const char* help;         // the family's HELP text (the same on every row of the family)
  uint64_t StatsSnapshot::*member;
};

// Every scalar counter of StatsSnapshot, rows of one family next to each other. The read-size
// histogram (StatsSnapshot::read_sizes) is not a row: it is exposed as a histogram. Any thread.
std::span<const StatsField> statsFields();

}  // namespace reactord::common
