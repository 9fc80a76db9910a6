#include "common/json_writer.h"

#include <glog/logging.h>

#include <charconv>
#include <cinttypes>
#include <cmath>
#include <cstdio>

namespace reactord::common {
namespace {

bool isDigit(char c) { return c >= '0' && c <= '9'; }

// Advances `i` over one or more digits; false when there is none.
bool digits(std::string_view text, size_t& i) {
  const size_t start = i;
  while (i < text.size() && isDigit(text[i])) {
    ++i;
  }
  return i > start;
}

}  // namespace

JsonWriter& JsonWriter::beginObject() {
  beforeValue();
  out_ += '{';
  open_.push_back({true, false});
  return *this;
}

JsonWriter& JsonWriter::endObject() {
  DCHECK(!open_.empty() && open_.back().object && !after_key_);
  open_.pop_back();
  out_ += '}';
  return *this;
}

JsonWriter& JsonWriter::beginArray() {
  beforeValue();
  out_ += '[';
  open_.push_back({false, false});
  return *this;
}

JsonWriter& JsonWriter::endArray() {
  DCHECK(!open_.empty() && !open_.back().object);
  open_.pop_back();
  out_ += ']';
  return *this;
}

JsonWriter& JsonWriter::key(std::string_view name) {
  DCHECK(!open_.empty() && open_.back().object && !after_key_);
  if (open_.back().has_items) {
    out_ += ',';
  }
  open_.back().has_items = true;
  appendEscaped(name);
  out_ += ':';
  after_key_ = true;
  return *this;
}

JsonWriter& JsonWriter::value(uint64_t number) {
  beforeValue();
  char text[24];
  const int n = std::snprintf(text, sizeof text, "%" PRIu64, number);
  out_.append(text, static_cast<size_t>(n));
  return *this;
}

JsonWriter& JsonWriter::value(double number) {
  beforeValue();
  if (!std::isfinite(number)) {
    out_ += "null";
    return *this;
  }
  char text[32];
  const auto result = std::to_chars(text, text + sizeof text, number);  // shortest round trip
  out_.append(text, result.ptr);
  return *this;
}

JsonWriter& JsonWriter::null() {
  beforeValue();
  out_ += "null";
  return *this;
}

JsonWriter& JsonWriter::value(bool flag) {
  beforeValue();
  out_ += flag ? "true" : "false";
  return *this;
}

JsonWriter& JsonWriter::value(std::string_view text) {
  beforeValue();
  appendEscaped(text);
  return *this;
}

JsonWriter& JsonWriter::rawNumber(std::string_view number) {
  DCHECK(isJsonNumber(number)) << number;
  beforeValue();
  out_ += number;
  return *this;
}

std::string JsonWriter::take() {
  DCHECK(open_.empty()) << "unbalanced JSON";
  after_key_ = false;
  return std::move(out_);
}

void JsonWriter::beforeValue() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (open_.empty()) {
    return;  // the top-level value
  }
  DCHECK(!open_.back().object) << "a value inside an object needs a key: " << out_;
  if (open_.back().has_items) {
    out_ += ',';
  }
  open_.back().has_items = true;
}

void JsonWriter::appendEscaped(std::string_view text) {
  out_ += '"';
  for (const char c : text) {
    switch (c) {
      case '"':
        out_ += "\\\"";
        break;
      case '\\':
        out_ += "\\\\";
        break;
      case '\n':
        out_ += "\\n";
        break;
      case '\r':
        out_ += "\\r";
        break;
      case '\t':
        out_ += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char escaped[8];
          std::snprintf(escaped, sizeof escaped, "\\u%04x", c);
          out_ += escaped;
        } else {
          out_ += c;
        }
    }
  }
  out_ += '"';
}

bool isJsonNumber(std::string_view text) {
  size_t i = 0;
  if (i < text.size() && text[i] == '-') {
    ++i;
  }
  if (i < text.size() && text[i] == '0') {
    ++i;
  } else if (!digits(text, i)) {
    return false;
  }
  if (i < text.size() && text[i] == '.') {
    ++i;
    if (!digits(text, i)) {
      return false;
    }
  }
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    if (i < text.size() && (text[i] == '+' || text[i] == '-')) {
      ++i;
    }
    if (!digits(text, i)) {
      return false;
    }
  }
  return i == text.size();
}

}  // namespace reactord::common
