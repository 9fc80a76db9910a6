#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace reactord::common {

// Builds one compact JSON text: {"a":1,"b":[true,"x"]}. Commas and string escaping are its job;
// the caller keeps objects and arrays balanced (checked with DCHECKs). A value type; one thread.
class JsonWriter {
 public:
  JsonWriter& beginObject();
  JsonWriter& endObject();
  JsonWriter& beginArray();
  JsonWriter& endArray();
  // The key of the next value, inside an object.
  JsonWriter& key(std::string_view name);
  JsonWriter& value(uint64_t number);
  JsonWriter& value(double number);  // finite; a non-finite number is written as null
  JsonWriter& value(bool flag);
  JsonWriter& value(std::string_view text);
  JsonWriter& value(const char* text) { return value(std::string_view(text)); }
  JsonWriter& null();
  // A number already in JSON syntax (checked by the caller).
  JsonWriter& rawNumber(std::string_view number);
  // The text; the writer is empty afterwards.
  std::string take();

 private:
  void beforeValue();
  void appendEscaped(std::string_view text);

  struct Open {
    bool object;     // else an array
    bool has_items;  // a comma goes before the next item
  };

  std::string out_;
  std::vector<Open> open_;  // the objects and arrays not closed yet, innermost last
  bool after_key_ = false;
};

// True when `text` is a JSON number (-?digits[.digits][e[+-]digits], no leading zeros).
bool isJsonNumber(std::string_view text);

}  // namespace reactord::common
