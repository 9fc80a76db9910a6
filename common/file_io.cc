#include "common/file_io.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>

#include "common/unique_fd.h"

namespace reactord::common {
namespace {

std::string failure(const std::string& step, const std::string& path, int error_number) {
  return step + " " + path + ": " + std::strerror(error_number);
}

}  // namespace

bool writeAll(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      if (n == 0) {
        errno = EIO;  // a write of nothing would repeat forever
      }
      return false;
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

bool writeFileAtomically(const std::string& path, std::string_view contents, std::string* error) {
  const std::string tmp = path + ".tmp";
  UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (!fd.valid()) {
    *error = failure("open", tmp, errno);
    return false;
  }
  if (!writeAll(fd.get(), contents)) {
    *error = failure("write", tmp, errno);
    ::unlink(tmp.c_str());
    return false;
  }
  fd.reset();
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    *error = failure("rename " + tmp + " to", path, errno);
    ::unlink(tmp.c_str());
    return false;
  }
  return true;
}

std::optional<std::string> readSmallFile(const std::string& path, size_t max_bytes,
                                         std::string* error) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    *error = failure("open", path, errno);
    return std::nullopt;
  }
  std::string contents;
  char buffer[4096];
  while (true) {
    const ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      *error = failure("read", path, errno);
      return std::nullopt;
    }
    if (n == 0) {
      return contents;
    }
    contents.append(buffer, static_cast<size_t>(n));
    if (contents.size() > max_bytes) {
      *error = path + " is longer than " + std::to_string(max_bytes) + " bytes";
      return std::nullopt;
    }
  }
}

std::optional<std::string> readFileText(const std::string& path) {
  std::string ignored;
  return readSmallFile(path, std::numeric_limits<size_t>::max(), &ignored);
}

}  // namespace reactord::common
