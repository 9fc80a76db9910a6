#include "server/status_file.h"

#include <glog/logging.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "common/file_io.h"

namespace reactord::server {

StatusFile::~StatusFile() {
  struct stat now {};
  if (!written_ || ::stat(path_.c_str(), &now) != 0) {
    return;
  }
  if (now.st_dev != device_ || now.st_ino != inode_) {
    LOG(INFO) << "status file " << path_ << " was replaced (a newer process): left in place";
    return;
  }
  if (::unlink(path_.c_str()) != 0 && errno != ENOENT) {
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
  struct stat written {};
  if (::stat(path_.c_str(), &written) == 0) {
    written_ = true;
    device_ = written.st_dev;
    inode_ = written.st_ino;
  }
  LOG(INFO) << "status file " << path_ << ": "
            << status.format().substr(0, status.format().size() - 1);
  return true;
}

}  // namespace reactord::server
