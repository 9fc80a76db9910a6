#include "server/status_file.h"

#include <glog/logging.h>
#include <unistd.h>

#include <cerrno>

#include "common/file_io.h"

namespace reactord::server {

StatusFile::~StatusFile() {
  if (written_ && ::unlink(path_.c_str()) != 0 && errno != ENOENT) {
    PLOG(WARNING) << "removing --status_file=" << path_;
  }
}

bool StatusFile::write(const common::ServerStatus& status, std::string* error) {
  if (path_.empty()) {
    return true;
  }
  if (!common::writeFileAtomically(path_, status.format(), error)) {
    *error = "--status_file=" + path_ + ": " + *error;
    return false;
  }
  written_ = true;
  LOG(INFO) << "status file " << path_ << ": "
            << status.format().substr(0, status.format().size() - 1);
  return true;
}

}  // namespace reactord::server
