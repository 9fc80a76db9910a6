#include "common/stats_line_json.h"

#include "common/json_writer.h"

namespace reactord::common {
namespace {

// Splits off the text up to the next `separator` (or the end).
std::string_view nextToken(std::string_view& text, char separator) {
  const size_t end = text.find(separator);
  const std::string_view token = text.substr(0, end);
  text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
  return token;
}

void writeScalar(JsonWriter& out, std::string_view value) {
  if (isJsonNumber(value)) {
    out.rawNumber(value);
  } else {
    out.value(value);
  }
}

}  // namespace

std::string statsLineToJson(std::string_view line) {
  JsonWriter out;
  out.beginObject();
  out.key("event").value(nextToken(line, ' '));
  while (!line.empty()) {
    std::string_view pair = nextToken(line, ' ');
    if (pair.empty()) {
      continue;
    }
    const std::string_view key = nextToken(pair, '=');
    out.key(key);
    if (key.substr(0, 7) == "worker_") {
      out.beginArray();
      while (!pair.empty()) {
        writeScalar(out, nextToken(pair, ','));
      }
      out.endArray();
    } else {
      writeScalar(out, pair);
    }
  }
  out.endObject();
  return out.take();
}

}  // namespace reactord::common
