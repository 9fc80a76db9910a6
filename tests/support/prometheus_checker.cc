#include "tests/support/prometheus_checker.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <regex>

namespace reactord::testing {
namespace {

const std::regex kMetricName("[a-zA-Z_:][a-zA-Z0-9_:]*");
const std::regex kLabelName("[a-zA-Z_][a-zA-Z0-9_]*");
const std::regex kFloat("[+-]?([0-9]+(\\.[0-9]*)?|\\.[0-9]+)([eE][+-]?[0-9]+)?");
const std::regex kTimestamp("-?[0-9]+");

// Takes the longest prefix of `text` made of name characters.
std::string_view takeName(std::string_view& text) {
  size_t n = 0;
  while (n < text.size() &&
         (std::isalnum(static_cast<unsigned char>(text[n])) || text[n] == '_' || text[n] == ':')) {
    ++n;
  }
  const std::string_view name = text.substr(0, n);
  text.remove_prefix(n);
  return name;
}

std::optional<double> parseFloat(std::string_view text) {
  if (text == "NaN") {
    return std::numeric_limits<double>::quiet_NaN();
  }
  if (text == "+Inf") {
    return std::numeric_limits<double>::infinity();
  }
  if (text == "-Inf") {
    return -std::numeric_limits<double>::infinity();
  }
  const std::string s(text);
  if (!std::regex_match(s, kFloat)) {
    return std::nullopt;
  }
  return std::stod(s);
}

bool endsWith(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

}  // namespace

std::vector<std::string> PrometheusChecker::check(std::string_view text) {
  *this = PrometheusChecker();
  if (!text.empty() && text.back() != '\n') {
    fail("the text does not end with a newline");
  }
  while (!text.empty()) {
    const size_t end = text.find('\n');
    checkLine(text.substr(0, end));
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
  }
  checkHistograms();
  return problems_;
}

std::optional<double> PrometheusChecker::value(const std::string& name, Labels labels) const {
  const auto it = series_.find(seriesKey(name, std::move(labels)));
  return it == series_.end() ? std::nullopt : std::optional<double>(it->second);
}

std::string PrometheusChecker::type(const std::string& family) const {
  const auto it = families_.find(family);
  return it == families_.end() ? "" : it->second.type;
}

void PrometheusChecker::checkLine(std::string_view line) {
  ++line_number_;
  if (line.empty()) {
    fail("blank line");
  } else if (line[0] == '#') {
    checkComment(line);
  } else {
    checkSample(line);
  }
}

void PrometheusChecker::checkComment(std::string_view line) {
  const bool help = line.substr(0, 7) == "# HELP ";
  const bool type = line.substr(0, 7) == "# TYPE ";
  if (!help && !type) {
    return fail("a comment that is neither HELP nor TYPE");
  }
  line.remove_prefix(7);
  const std::string name(takeName(line));
  if (!std::regex_match(name, kMetricName) || line.substr(0, 1) != " " || line.size() < 2) {
    return fail("malformed HELP or TYPE line");
  }
  line.remove_prefix(1);
  if (help) {
    if (families_.count(name) != 0) {
      return fail("family " + name + " described twice");
    }
    for (size_t i = 0; i < line.size(); ++i) {
      if (line[i] == '\\' &&
          (i + 1 == line.size() || (line[i + 1] != '\\' && line[i + 1] != 'n'))) {
        return fail("bad escape in HELP of " + name);
      }
      i += line[i] == '\\' ? 1 : 0;
    }
    families_[name] = Family{};
    current_ = name;
    current_has_help_ = true;
    return;
  }
  if (name != current_ || !current_has_help_) {
    return fail("TYPE of " + name + " without its HELP just before");
  }
  current_has_help_ = false;
  if (line != "counter" && line != "gauge" && line != "histogram") {
    return fail("unknown type '" + std::string(line) + "' of " + name);
  }
  families_[name].type = line;
  if (line == "counter" && !endsWith(name, "_total")) {
    fail("counter " + name + " does not end in _total");
  }
}

void PrometheusChecker::checkSample(std::string_view line) {
  const std::string name(takeName(line));
  if (!std::regex_match(name, kMetricName)) {
    return fail("malformed sample name");
  }
  if (current_.empty() || families_[current_].type.empty()) {
    return fail("sample " + name + " before its family's HELP and TYPE");
  }
  const Family& family = families_[current_];
  const bool histogram = family.type == "histogram";
  const bool is_bucket = histogram && name == current_ + "_bucket";
  if (histogram ? !(is_bucket || name == current_ + "_sum" || name == current_ + "_count")
                : name != current_) {
    return fail("sample " + name + " outside its family " + current_);
  }
  Labels labels;
  if (!line.empty() && line[0] == '{') {
    line.remove_prefix(1);
    while (true) {
      const std::string label(takeName(line));
      if (!std::regex_match(label, kLabelName) || line.substr(0, 2) != "=\"") {
        return fail("malformed label in " + name);
      }
      line.remove_prefix(2);
      std::string value;
      while (!line.empty() && line[0] != '"') {
        if (line[0] == '\\') {
          if (line.size() < 2 || (line[1] != '\\' && line[1] != '"' && line[1] != 'n')) {
            return fail("bad escape in a label value of " + name);
          }
          value += line[1] == 'n' ? '\n' : line[1];
          line.remove_prefix(2);
        } else {
          value += line[0];
          line.remove_prefix(1);
        }
      }
      if (line.empty()) {
        return fail("unterminated label value in " + name);
      }
      line.remove_prefix(1);
      for (const auto& [existing, unused] : labels) {
        if (existing == label) {
          return fail("label " + label + " twice in " + name);
        }
      }
      labels.emplace_back(label, value);
      if (line.substr(0, 1) == "}") {
        line.remove_prefix(1);
        break;
      }
      if (line.substr(0, 1) != ",") {
        return fail("expected , or } after a label of " + name);
      }
      line.remove_prefix(1);
    }
  }
  if (line.substr(0, 1) != " ") {
    return fail("no value after " + name);
  }
  line.remove_prefix(1);
  const size_t space = line.find(' ');
  const std::optional<double> value = parseFloat(line.substr(0, space));
  if (!value) {
    return fail("bad value in " + name);
  }
  if (space != std::string_view::npos &&
      !std::regex_match(std::string(line.substr(space + 1)), kTimestamp)) {
    return fail("bad timestamp in " + name);
  }
  if (family.type == "counter" && !(*value >= 0)) {
    return fail("negative or NaN counter " + name);
  }
  const std::string key = seriesKey(name, labels);
  if (!series_.emplace(key, *value).second) {
    return fail("series " + key + " twice");
  }
  if (is_bucket) {
    auto le =
        std::find_if(labels.begin(), labels.end(), [](const auto& l) { return l.first == "le"; });
    const std::optional<double> bound = le == labels.end() ? std::nullopt : parseFloat(le->second);
    if (!bound) {
      return fail("bucket of " + current_ + " without a valid le");
    }
    labels.erase(le);
    buckets_[seriesKey(current_, labels)].emplace_back(*bound, *value);
  }
}

void PrometheusChecker::checkHistograms() {
  for (const auto& [key, buckets] : buckets_) {
    for (size_t i = 1; i < buckets.size(); ++i) {
      if (!(buckets[i].first > buckets[i - 1].first) || buckets[i].second < buckets[i - 1].second) {
        fail("histogram " + key + ": buckets not in order or not cumulative");
      }
    }
    if (buckets.empty() || !std::isinf(buckets.back().first)) {
      fail("histogram " + key + " without a +Inf bucket");
      continue;
    }
    // key is family{labels}: the _count and _sum series carry the same labels.
    const size_t brace = key.find('{');
    const std::string family = key.substr(0, brace);
    const std::string labels = brace == std::string::npos ? "" : key.substr(brace);
    const auto count = series_.find(family + "_count" + labels);
    if (count == series_.end() || count->second != buckets.back().second) {
      fail("histogram " + key + ": _count missing or not equal to the +Inf bucket");
    }
    if (series_.count(family + "_sum" + labels) == 0) {
      fail("histogram " + key + " without _sum");
    }
  }
}

void PrometheusChecker::fail(const std::string& problem) {
  problems_.push_back("line " + std::to_string(line_number_) + ": " + problem);
}

std::string PrometheusChecker::seriesKey(const std::string& name, Labels labels) {
  std::sort(labels.begin(), labels.end());
  std::string key = name;
  if (!labels.empty()) {
    char separator = '{';
    for (const auto& [label, value] : labels) {
      key += separator;
      key.append(label).append("=\"").append(value).append("\"");
      separator = ',';
    }
    key += '}';
  }
  return key;
}

}  // namespace reactord::testing
