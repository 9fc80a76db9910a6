#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace reactord::common {

// Writes the Prometheus text exposition format, version 0.0.4: for each metric family a
// "# HELP" and a "# TYPE" line, then its samples, "name{label="value",...} value". It escapes
// HELP texts (\\, \n) and label values (\\, \", \n); metric and label names are the caller's
// constants (checked with DCHECKs). A value type; one thread.
class PrometheusWriter {
 public:
  enum class Type { kCounter, kGauge, kHistogram };
  using Labels = std::initializer_list<std::pair<std::string_view, std::string_view>>;

  // The content type of this format, for the HTTP response.
  static constexpr const char* kContentType = "text/plain; version=0.0.4; charset=utf-8";

  // Starts a family. Every family once; its samples follow before the next family starts.
  void family(std::string_view name, Type type, std::string_view help);
  // One sample of the current family: `name` is the family's name, or for a histogram the
  // family's name followed by _bucket, _sum or _count.
  void sample(std::string_view name, Labels labels, uint64_t value);
  void sample(std::string_view name, Labels labels, double value);
  // The text; the writer is empty afterwards.
  std::string take();

 private:
  void appendSeries(std::string_view name, Labels labels);

  std::string out_;
  std::string family_;  // the current family, for DCHECKs
};

// True for a valid metric name: [a-zA-Z_:][a-zA-Z0-9_:]*. Label names: the same without ':'.
bool isPrometheusMetricName(std::string_view name);
bool isPrometheusLabelName(std::string_view name);

}  // namespace reactord::common
