#include "common/listen_counters.h"

#include <algorithm>
#include <charconv>
#include <cstring>

#include "common/file_io.h"

namespace reactord::common {
namespace {

constexpr std::string_view kTcpExt = "TcpExt:";

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

// The spaces in `text`, found with memchr (vectorised; a byte-by-byte count costs five times more
// on a 2 KiB line).
size_t countSpaces(std::string_view text) {
  size_t count = 0;
  const char* at = text.data();
  const char* const end = text.data() + text.size();
  while ((at = static_cast<const char*>(std::memchr(at, ' ', end - at))) != nullptr) {
    ++count;
    ++at;
  }
  return count;
}

// The position of field `name` in a line of fields, each after one space as the kernel writes
// them (" Name1 Name2 ..."); npos when it is not there. A search and a count, no walk field by
// field: this runs every stats line.
size_t fieldIndex(std::string_view fields, std::string_view name) {
  for (size_t at = fields.find(name); at != std::string_view::npos;
       at = fields.find(name, at + 1)) {
    const size_t end = at + name.size();
    if (at > 0 && fields[at - 1] == ' ' && (end == fields.size() || fields[end] == ' ')) {
      return countSpaces(fields.substr(0, at)) - 1;
    }
  }
  return std::string_view::npos;
}

// Field `index` of such a line as a number; nullopt (with the reason) when it is not one.
std::optional<uint64_t> numberAt(std::string_view fields, size_t index, std::string* error) {
  size_t start = 0;
  for (size_t i = 0; i <= index; ++i) {
    start = fields.find(' ', start) + 1;  // fields has as many spaces as fields: checked before
  }
  const std::string_view text = fields.substr(start, fields.find(' ', start) - start);
  uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) {
    *error = "TcpExt value " + std::to_string(index + 1) + " is not a number: '" +
             std::string(text) + "'";
    return std::nullopt;
  }
  return value;
}

// The two counters from a TcpExt pair: the names' positions, then the values at those positions.
std::optional<ListenCounters> parsePair(std::string_view names_line, std::string_view values_line,
                                        std::string* error) {
  const std::string_view names = names_line.substr(kTcpExt.size());
  const std::string_view values = values_line.substr(kTcpExt.size());
  const size_t name_count = countSpaces(names);
  const size_t value_count = countSpaces(values);
  if (name_count != value_count) {
    *error = "TcpExt has " + std::to_string(name_count) + " names but " +
             std::to_string(value_count) + " values";
    return std::nullopt;
  }
  const size_t overflows_at = fieldIndex(names, "ListenOverflows");
  const size_t drops_at = fieldIndex(names, "ListenDrops");
  if (overflows_at == std::string_view::npos || drops_at == std::string_view::npos) {
    *error = "TcpExt has no ListenOverflows or no ListenDrops";
    return std::nullopt;
  }
  const std::optional<uint64_t> overflows = numberAt(values, overflows_at, error);
  const std::optional<uint64_t> drops =
      overflows ? numberAt(values, drops_at, error) : std::nullopt;
  if (!drops) {
    return std::nullopt;
  }
  return ListenCounters{*overflows, *drops};
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
