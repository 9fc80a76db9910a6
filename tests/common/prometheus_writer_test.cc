#include "common/prometheus_writer.h"

#include <gtest/gtest.h>

#include <limits>
#include <string>

#include "tests/support/prometheus_checker.h"

namespace reactord::common {
namespace {

using reactord::testing::PrometheusChecker;
using Type = PrometheusWriter::Type;

std::string joined(const std::vector<std::string>& problems) {
  std::string text;
  for (const auto& problem : problems) {
    text += problem + "\n";
  }
  return text;
}

TEST(PrometheusWriterTest, WritesHelpTypeAndSamples) {
  PrometheusWriter out;
  out.family("x_requests_total", Type::kCounter, "Requests.");
  out.sample("x_requests_total", {{"code", "200"}}, uint64_t{7});
  out.sample("x_requests_total", {{"code", "404"}}, uint64_t{0});
  out.family("x_temperature", Type::kGauge, "Degrees.");
  out.sample("x_temperature", {}, -1.5);
  EXPECT_EQ(out.take(),
            "# HELP x_requests_total Requests.\n"
            "# TYPE x_requests_total counter\n"
            "x_requests_total{code=\"200\"} 7\n"
            "x_requests_total{code=\"404\"} 0\n"
            "# HELP x_temperature Degrees.\n"
            "# TYPE x_temperature gauge\n"
            "x_temperature -1.5\n");
}

TEST(PrometheusWriterTest, EscapesHelpAndLabelValues) {
  PrometheusWriter out;
  out.family("x_info", Type::kGauge, "A \\ backslash\nand a newline, \"quotes\" kept.");
  out.sample("x_info", {{"path", "C:\\dir\n\"q\""}}, uint64_t{1});
  const std::string text = out.take();
  EXPECT_EQ(text,
            "# HELP x_info A \\\\ backslash\\nand a newline, \"quotes\" kept.\n"
            "# TYPE x_info gauge\n"
            "x_info{path=\"C:\\\\dir\\n\\\"q\\\"\"} 1\n");
  PrometheusChecker checker;
  EXPECT_TRUE(checker.check(text).empty()) << joined(checker.check(text));
  EXPECT_EQ(checker.value("x_info", {{"path", "C:\\dir\n\"q\""}}), 1.0);
}

TEST(PrometheusWriterTest, SpecialFloatsAndShortestDecimals) {
  PrometheusWriter out;
  out.family("x_g", Type::kGauge, "g");
  out.sample("x_g", {{"k", "a"}}, std::numeric_limits<double>::infinity());
  out.sample("x_g", {{"k", "b"}}, std::numeric_limits<double>::quiet_NaN());
  out.sample("x_g", {{"k", "c"}}, 0.1);
  EXPECT_EQ(
      out.take(),
      "# HELP x_g g\n# TYPE x_g gauge\nx_g{k=\"a\"} +Inf\nx_g{k=\"b\"} NaN\nx_g{k=\"c\"} 0.1\n");
}

TEST(PrometheusWriterTest, NameValidation) {
  EXPECT_TRUE(isPrometheusMetricName("reactord_x:y_total"));
  EXPECT_FALSE(isPrometheusMetricName("1x"));
  EXPECT_FALSE(isPrometheusMetricName("a-b"));
  EXPECT_FALSE(isPrometheusMetricName(""));
  EXPECT_TRUE(isPrometheusLabelName("worker"));
  EXPECT_FALSE(isPrometheusLabelName("a:b"));
}

// The checker must reject what the format forbids, or the integration tests prove nothing.
TEST(PrometheusCheckerTest, RejectsBrokenExpositions) {
  const std::string head = "# HELP a_total h\n# TYPE a_total counter\n";
  const std::vector<std::pair<std::string, std::string>> broken = {
      {"no TYPE", "# HELP a_total h\na_total 1\n"},
      {"no HELP", "# TYPE a_total counter\na_total 1\n"},
      {"TYPE before HELP", "# TYPE a_total counter\n# HELP a_total h\na_total 1\n"},
      {"counter without _total", "# HELP a h\n# TYPE a counter\na 1\n"},
      {"duplicate series", head + "a_total{x=\"1\"} 1\na_total{x=\"1\"} 2\n"},
      {"duplicate label", head + "a_total{x=\"1\",x=\"2\"} 1\n"},
      {"unescaped quote", head + "a_total{x=\"a\"b\"} 1\n"},
      {"bad escape", head + "a_total{x=\"a\\tb\"} 1\n"},
      {"trailing comma", head + "a_total{x=\"1\",} 1\n"},
      {"bad value", head + "a_total 1,5\n"},
      {"negative counter", head + "a_total -1\n"},
      {"no final newline", head + "a_total 1"},
      {"blank line", head + "\na_total 1\n"},
      {"other family's sample", head + "b_total 1\n"},
      {"family twice", head + "a_total 1\n" + head},
      {"unknown type", "# HELP a h\n# TYPE a summary_like\na 1\n"},
      {"bad name", "# HELP 1a h\n# TYPE 1a gauge\n1a 1\n"},
      {"histogram without +Inf",
       "# HELP h h\n# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_sum 1\nh_count 1\n"},
      {"histogram not cumulative",
       "# HELP h h\n# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_sum "
       "1\nh_count 1\n"},
      {"histogram count mismatch",
       "# HELP h h\n# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 1\n"},
      {"histogram without sum",
       "# HELP h h\n# TYPE h histogram\nh_bucket{le=\"+Inf\"} 1\nh_count 1\n"},
  };
  for (const auto& [what, text] : broken) {
    PrometheusChecker checker;
    EXPECT_FALSE(checker.check(text).empty()) << what << " was accepted:\n" << text;
  }
  PrometheusChecker checker;
  const std::string good =
      head + "a_total{x=\"1\"} 1 1700000000000\n" +
      "# HELP h h\n# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_sum "
      "3.5\nh_count 2\n";
  EXPECT_TRUE(checker.check(good).empty()) << joined(checker.check(good));
  EXPECT_EQ(checker.type("h"), "histogram");
  EXPECT_EQ(checker.value("h_count"), 2.0);
}

}  // namespace
}  // namespace reactord::common
