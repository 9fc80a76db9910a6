#pragma once

#include <optional>
#include <string>

namespace reactord::common {

// The whole content of a small file (a /proc or /sys file, a config file), or nullopt when it
// cannot be opened or read. Any thread.
std::optional<std::string> readFileText(const std::string& path);

}  // namespace reactord::common
