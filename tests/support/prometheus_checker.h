#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace reactord::testing {

// A strict checker of the Prometheus text exposition format 0.0.4, for tests; stricter than the
// format where reactord's output is concerned. It checks that:
//   - every line ends with '\n'; no blank lines, no comments but HELP and TYPE;
//   - every family has one "# HELP" then one "# TYPE" (counter, gauge, histogram), before its
//     samples, and its samples are contiguous;
//   - each sample is name{label="value",...} value, with valid names, label values escaped
//     (only \\, \" and \n), no label twice, a float value (NaN and +-Inf included);
//   - sample names belong to their family (histograms: _bucket, _sum, _count);
//   - counter names end in _total, counter values are >= 0;
//   - no series appears twice;
//   - each histogram series has cumulative buckets with an "le" label, a +Inf bucket equal to
//     its _count, and a _sum.
// A value type; one thread.
class PrometheusChecker {
 public:
  using Labels = std::vector<std::pair<std::string, std::string>>;

  // Checks `text`; returns the problems found, one line each, empty when it is valid.
  std::vector<std::string> check(std::string_view text);

  // After check(): the value of a series (labels in any order), or nullopt.
  std::optional<double> value(const std::string& name, Labels labels = {}) const;
  // After check(): the type of a family ("counter", ...), or "" when it is not there.
  std::string type(const std::string& family) const;
  size_t seriesCount() const { return series_.size(); }

 private:
  struct Family {
    std::string type;  // empty until its TYPE line
  };
  void checkLine(std::string_view line);
  void checkComment(std::string_view line);
  void checkSample(std::string_view line);
  void checkHistograms();
  void fail(const std::string& problem);
  static std::string seriesKey(const std::string& name, Labels labels);

  size_t line_number_ = 0;
  std::vector<std::string> problems_;
  std::map<std::string, Family> families_;
  std::string current_;            // the family whose samples may follow
  bool current_has_help_ = false;  // seen its HELP, waiting for its TYPE
  std::map<std::string, double> series_;
  // Histogram samples in order, to check buckets: key without le -> (le, value) list.
  std::map<std::string, std::vector<std::pair<double, double>>> buckets_;
};

}  // namespace reactord::testing
