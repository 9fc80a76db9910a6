#pragma once

#include <map>
#include <optional>
#include <string>

namespace reactord::client::testing {

// Parses one JSON object of objects, strings and numbers (what reactor-bench --json prints) into
// "path" -> text, nested keys joined with '.': {"a":{"b":1}} gives {"a.b": "1"}. Strings lose their
// quotes. nullopt when the text is not such an object (trailing garbage included). Pure function.
std::optional<std::map<std::string, std::string>> parseFlatJson(const std::string& text);

}  // namespace reactord::client::testing
