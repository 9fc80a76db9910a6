#include "server/control_socket.h"

#include <glog/logging.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "common/unix_socket.h"

namespace reactord::server {
namespace {

constexpr int kControlBacklog = 8;
constexpr std::chrono::milliseconds kProbeTimeout{1000};

std::string errnoText(const std::string& what, int error) {
  return what + ": " + std::strerror(error);
}

// Empty when `path` does not exist or is a socket; otherwise why it must not be touched.
std::string checkReplaceable(const std::string& path) {
  struct stat info {};
  if (::lstat(path.c_str(), &info) != 0) {
    return errno == ENOENT ? std::string() : errnoText("cannot inspect " + path, errno);
  }
  if (!S_ISSOCK(info.st_mode)) {
    return path + " exists and is not a socket (" +
           (S_ISLNK(info.st_mode) ? "a symbolic link" : "some other file") +
           "); refusing to replace it";
  }
  return {};
}

}  // namespace

ControlSocket::ControlSocket(std::string path, std::string temp_path, common::UniqueFd fd,
                             dev_t device, ino_t inode)
    : path_(std::move(path)),
      temp_path_(std::move(temp_path)),
      fd_(std::move(fd)),
      device_(device),
      inode_(inode) {}

std::unique_ptr<ControlSocket> ControlSocket::prepare(const std::string& path, std::string* error) {
  const std::string temp = path + ".new." + std::to_string(::getpid());
  if (temp.size() > common::maxUnixPathLength()) {
    *error = "--control_socket=" + path + " is too long for a Unix socket (at most " +
             std::to_string(common::maxUnixPathLength() - (temp.size() - path.size())) +
             " characters)";
    return nullptr;
  }
  for (const std::string& name : {path, temp}) {
    if (std::string problem = checkReplaceable(name); !problem.empty()) {
      *error = "control socket: " + problem;
      return nullptr;
    }
  }
  // A socket under our own pid's private name is a leftover of a dead process that had this pid.
  ::unlink(temp.c_str());
  common::UnixListenResult bound = common::listenUnixSeqpacket(temp, 0600, kControlBacklog);
  if (!bound.fd.valid()) {
    *error = "control socket: " + bound.text + " (does the directory exist and is it writable?)";
    return nullptr;
  }
  struct stat info {};
  if (::lstat(temp.c_str(), &info) != 0) {
    *error = errnoText("control socket: cannot inspect " + temp, errno);
    ::unlink(temp.c_str());
    return nullptr;
  }
  return std::unique_ptr<ControlSocket>(
      new ControlSocket(path, temp, std::move(bound.fd), info.st_dev, info.st_ino));
}

bool ControlSocket::publish(Publish how, std::string* error) {
  DCHECK(!published_);
  if (std::string problem = checkReplaceable(path_); !problem.empty()) {
    *error = "control socket: " + problem;
    ::unlink(temp_path_.c_str());
    return false;
  }
  if (how == Publish::kReplace) {
    if (::rename(temp_path_.c_str(), path_.c_str()) != 0) {
      *error = errnoText("control socket: cannot move " + temp_path_ + " to " + path_, errno);
      ::unlink(temp_path_.c_str());
      return false;
    }
    published_ = true;
    return true;
  }
  for (int attempt = 0; attempt < 3; ++attempt) {
    if (::link(temp_path_.c_str(), path_.c_str()) == 0) {
      ::unlink(temp_path_.c_str());
      published_ = true;
      return true;
    }
    if (errno != EEXIST) {
      break;
    }
    const common::UnixConnectResult probe =
        common::connectUnixSeqpacket(path_, common::deadlineIn(kProbeTimeout));
    if (probe.fd.valid() || probe.error == EACCES || probe.error == EPERM) {
      *error = "control socket " + path_ +
               " belongs to a running process; to replace that reactord, start this one with "
               "--takeover_from=" +
               path_;
      ::unlink(temp_path_.c_str());
      return false;
    }
    if (probe.error == ECONNREFUSED) {
      return replaceStale(error);
    }
    // ENOENT: it vanished between link() and the probe: try again.
  }
  *error = errnoText("control socket: cannot create " + path_, errno);
  ::unlink(temp_path_.c_str());
  return false;
}

bool ControlSocket::replaceStale(std::string* error) {
  // Nobody listens there: the socket of a process that is gone. rename() replaces it atomically.
  if (::rename(temp_path_.c_str(), path_.c_str()) != 0) {
    *error = errnoText("control socket: cannot replace the stale " + path_, errno);
    ::unlink(temp_path_.c_str());
    return false;
  }
  LOG(INFO) << "control socket: replaced the stale " << path_ << " (no process listened on it)";
  published_ = true;
  return true;
}

ControlSocket::~ControlSocket() {
  const std::string& name = published_ ? path_ : temp_path_;
  struct stat info {};
  if (::lstat(name.c_str(), &info) == 0 && info.st_dev == device_ && info.st_ino == inode_) {
    ::unlink(name.c_str());
  } else if (published_) {
    LOG(INFO) << "control socket " << path_ << " now belongs to another process: left in place";
  }
}

}  // namespace reactord::server
