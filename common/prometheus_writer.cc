#include "common/prometheus_writer.h"

#include <glog/logging.h>

#include <charconv>
#include <cinttypes>
#include <cmath>
#include <cstdio>

namespace reactord::common {
namespace {

bool isNameChar(char c, bool first, bool colon_allowed) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_') {
    return true;
  }
  if (c == ':') {
    return colon_allowed;
  }
  return !first && c >= '0' && c <= '9';
}

bool isName(std::string_view name, bool colon_allowed) {
  for (size_t i = 0; i < name.size(); ++i) {
    if (!isNameChar(name[i], i == 0, colon_allowed)) {
      return false;
    }
  }
  return !name.empty();
}

const char* typeName(PrometheusWriter::Type type) {
  switch (type) {
    case PrometheusWriter::Type::kCounter:
      return "counter";
    case PrometheusWriter::Type::kGauge:
      return "gauge";
    case PrometheusWriter::Type::kHistogram:
      return "histogram";
  }
  return "untyped";
}

// HELP texts escape \ and newlines; label values escape double quotes too.
void appendEscaped(std::string& out, std::string_view text, bool quotes) {
  for (const char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"' && quotes) {
      out += "\\\"";
    } else {
      out += c;
    }
  }
}

}  // namespace

bool isPrometheusMetricName(std::string_view name) { return isName(name, true); }
bool isPrometheusLabelName(std::string_view name) { return isName(name, false); }

void PrometheusWriter::family(std::string_view name, Type type, std::string_view help) {
  DCHECK(isPrometheusMetricName(name)) << name;
  family_ = name;
  out_ += "# HELP ";
  out_ += name;
  out_ += ' ';
  appendEscaped(out_, help, /*quotes=*/false);
  out_ += "\n# TYPE ";
  out_ += name;
  out_ += ' ';
  out_ += typeName(type);
  out_ += '\n';
}

void PrometheusWriter::sample(std::string_view name, Labels labels, uint64_t value) {
  appendSeries(name, labels);
  char text[24];
  const int n = std::snprintf(text, sizeof text, " %" PRIu64 "\n", value);
  out_.append(text, static_cast<size_t>(n));
}

void PrometheusWriter::sample(std::string_view name, Labels labels, double value) {
  appendSeries(name, labels);
  if (std::isnan(value)) {
    out_ += " NaN\n";
  } else if (std::isinf(value)) {
    out_ += value > 0 ? " +Inf\n" : " -Inf\n";
  } else {
    char text[32];
    const auto result = std::to_chars(text, text + sizeof text, value);  // shortest round trip
    out_ += ' ';
    out_.append(text, result.ptr);
    out_ += '\n';
  }
}

std::string PrometheusWriter::take() {
  family_.clear();
  return std::move(out_);
}

void PrometheusWriter::appendSeries(std::string_view name, Labels labels) {
  DCHECK(name.substr(0, family_.size()) == family_) << name << " outside family " << family_;
  out_ += name;
  if (labels.size() == 0) {
    return;
  }
  char separator = '{';
  for (const auto& [label, value] : labels) {
    DCHECK(isPrometheusLabelName(label)) << label;
    out_ += separator;
    out_ += label;
    out_ += "=\"";
    appendEscaped(out_, value, /*quotes=*/true);
    out_ += '"';
    separator = ',';
  }
  out_ += '}';
}

}  // namespace reactord::common
