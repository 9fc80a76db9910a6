#include "common/file_text.h"

#include <fstream>
#include <sstream>

namespace reactord::common {

std::optional<std::string> readFileText(const std::string& path) {
  std::ifstream file(path);
  if (!file) {
    return std::nullopt;
  }
  std::ostringstream text;
  text << file.rdbuf();
  if (file.bad()) {
    return std::nullopt;
  }
  return std::move(text).str();
}

}  // namespace reactord::common
