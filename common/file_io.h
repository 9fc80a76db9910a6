#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace reactord::common {

// Small whole-file reads and writes: status files, /proc and /sys files. Any thread; blocking.

// Writes all of `data` to `fd` (a file or pipe, blocking), retrying short writes and EINTR. False
// with errno set when a write fails.
bool writeAll(int fd, std::string_view data);

// Writes `contents` to PATH.tmp (mode 0644), then renames it over `path`: a reader sees the old
// file or the whole new one, never a part. False with `error` ("open PATH.tmp: No such file or
// directory") when a step fails; PATH.tmp is removed then.
bool writeFileAtomically(const std::string& path, std::string_view contents, std::string* error);

// The contents of `path`, nullopt with `error` (the path and the errno text) when it cannot be
// read or is longer than `max_bytes`.
std::optional<std::string> readSmallFile(const std::string& path, size_t max_bytes,
                                         std::string* error);

// The whole content of a small file (a /proc or /sys file), or nullopt when it cannot be opened or
// read. open/read rather than a stream: the stats line reads a few of them every interval.
std::optional<std::string> readFileText(const std::string& path);

}  // namespace reactord::common
