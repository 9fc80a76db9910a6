#include "common/listen_counters.h"

#include <algorithm>
#include <charconv>

#include "common/file_text.h"

namespace reactord::common {
namespace {

constexpr std::string_view kTcpExt = "TcpExt:";

// Walks the space-separated fields of one line, without copying them.
class Fields {
 public:
  explicit Fields(std::string_view line) : line_(line) {}
  // The next field; false at the end of the line.
  bool next(std::string_view* field) {
    while (pos_ < line_.size() && (line_[pos_] == ' ' || line_[pos_] == '\t')) {
      ++pos_;
    }
    const size_t start = pos_;
    while (pos_ < line_.size() && line_[pos_] != ' ' && line_[pos_] != '\t') {
      ++pos_;
    }
    *field = line_.substr(start, pos_ - start);
    return pos_ > start;
  }

 private:
  std::string_view line_;
  size_t pos_ = 0;
};

// The next line of `text` from `*pos` (without its '\n'); false at the end.
bool nextLine(std::string_view text, size_t* pos, std::string_view* line) {
  if (*pos >= text.size()) {
    return false;
  }
  const size_t end = std::min(text.find('\n', *pos), text.size());
  *line = text.substr(*pos, end - *pos);
  *pos = end + 1;
  return true;
}

// The two counters from a TcpExt pair: the names' positions, then the values at those positions
// (every value checked to be a number, and as many values as names).
std::optional<ListenCounters> parsePair(std::string_view names_line, std::string_view values_line,
                                        std::string* error) {
  constexpr size_t kMissing = ~size_t{0};
  size_t overflows_at = kMissing;
  size_t drops_at = kMissing;
  size_t name_count = 0;
  Fields names(names_line.substr(kTcpExt.size()));
  for (std::string_view name; names.next(&name); ++name_count) {
    if (name == "ListenOverflows") {
      overflows_at = name_count;
    } else if (name == "ListenDrops") {
      drops_at = name_count;
    }
  }
  ListenCounters counters;
  size_t value_count = 0;
  Fields values(values_line.substr(kTcpExt.size()));
  for (std::string_view value; values.next(&value); ++value_count) {
    uint64_t number = 0;
    const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), number);
    if (ec != std::errc() || end != value.data() + value.size()) {
      *error = "TcpExt value " + std::to_string(value_count + 1) + " is not a number: '" +
               std::string(value) + "'";
      return std::nullopt;
    }
    if (value_count == overflows_at) {
      counters.overflows = number;
    } else if (value_count == drops_at) {
      counters.drops = number;
    }
  }
  if (name_count != value_count) {
    *error = "TcpExt has " + std::to_string(name_count) + " names but " +
             std::to_string(value_count) + " values";
    return std::nullopt;
  }
  if (overflows_at == kMissing || drops_at == kMissing) {
    *error = "TcpExt has no ListenOverflows or no ListenDrops";
    return std::nullopt;
  }
  return counters;
}

}  // namespace

std::optional<ListenCounters> parseListenCounters(std::string_view netstat, std::string* error) {
  size_t pos = 0;
  std::string_view names_line;
  while (nextLine(netstat, &pos, &names_line)) {
    if (!names_line.starts_with(kTcpExt)) {
      continue;
    }
    std::string_view values_line;
    if (!nextLine(netstat, &pos, &values_line) || !values_line.starts_with(kTcpExt)) {
      *error = "TcpExt names without a TcpExt values line";
      return std::nullopt;
    }
    return parsePair(names_line, values_line, error);
  }
  *error = "no TcpExt lines";
  return std::nullopt;
}

std::optional<ListenCounters> readListenCounters(std::string* error, const std::string& path) {
  const std::optional<std::string> text = readFileText(path);
  if (!text) {
    *error = "cannot read " + path;
    return std::nullopt;
  }
  auto counters = parseListenCounters(*text, error);
  if (!counters) {
    *error = path + ": " + *error;
  }
  return counters;
}

}  // namespace reactord::common
