#include "common/file_text.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "common/unique_fd.h"

namespace reactord::common {

std::optional<std::string> readFileText(const std::string& path) {
  // open/read rather than a stream: read once a second for the stats line, this is what it costs.
  const UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    return std::nullopt;
  }
  std::string text;
  size_t used = 0;
  while (true) {
    text.resize(used + 4096);
    const ssize_t n = ::read(fd.get(), text.data() + used, text.size() - used);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      return std::nullopt;
    }
    if (n == 0) {
      break;
    }
    used += static_cast<size_t>(n);
  }
  text.resize(used);
  return text;
}

}  // namespace reactord::common
