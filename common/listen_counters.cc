#include "common/listen_counters.h"

#include <algorithm>
#include <charconv>
#include <vector>

#include "common/file_text.h"

namespace reactord::common {
namespace {

constexpr std::string_view kTcpExt = "TcpExt:";

std::vector<std::string_view> fields(std::string_view line) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) {
      ++i;
    }
    const size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t') {
      ++i;
    }
    if (i > start) {
      out.push_back(line.substr(start, i - start));
    }
  }
  return out;
}

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
    const std::vector<std::string_view> names = fields(names_line.substr(kTcpExt.size()));
    const std::vector<std::string_view> values = fields(values_line.substr(kTcpExt.size()));
    if (names.size() != values.size()) {
      *error = "TcpExt has " + std::to_string(names.size()) + " names but " +
               std::to_string(values.size()) + " values";
      return std::nullopt;
    }
    std::optional<uint64_t> overflows;
    std::optional<uint64_t> drops;
    for (size_t i = 0; i < names.size(); ++i) {
      if (names[i] != "ListenOverflows" && names[i] != "ListenDrops") {
        continue;
      }
      uint64_t value = 0;
      const auto [end, ec] =
          std::from_chars(values[i].data(), values[i].data() + values[i].size(), value);
      if (ec != std::errc() || end != values[i].data() + values[i].size()) {
        *error = std::string(names[i]) + " is not a number: '" + std::string(values[i]) + "'";
        return std::nullopt;
      }
      (names[i] == "ListenOverflows" ? overflows : drops) = value;
    }
    if (!overflows || !drops) {
      *error = "TcpExt has no ListenOverflows or no ListenDrops";
      return std::nullopt;
    }
    return ListenCounters{*overflows, *drops};
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
