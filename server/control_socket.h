#pragma once

#include <sys/types.h>

#include <memory>
#include <string>

#include "common/unique_fd.h"

namespace reactord::server {

// The control socket of --control_socket: a SOCK_SEQPACKET Unix-domain socket with mode 0600
// (owner only; peers are checked by uid as well). Created in two steps so that nothing
// irreversible happens before everything that can fail has been tried:
//   prepare()  binds and listens at a private name beside the path (PATH.new.PID), mode 0600 before
//              listen(), so nobody ever connects under the umask's mode;
//   publish()  moves it to the path: kCreate links it there, which fails if the path exists (no
//              race with another process creating it); an existing socket with nobody listening
//              (a process that died) is replaced, a live one is refused. kReplace renames over the
//              old process's socket after a takeover, atomically: the path never disappears.
// The path is removed at destruction only if it still names this socket (after a takeover it
// names the new process's). Never follows a symbolic link, never replaces anything but a socket.
// Main-thread-only; the fd may be polled by another thread while the object lives.
class ControlSocket {
 public:
  enum class Publish { kCreate, kReplace };

  // Binds at the private name. nullptr with `error` set (the path and the reason) on failure.
  static std::unique_ptr<ControlSocket> prepare(const std::string& path, std::string* error);
  ~ControlSocket();
  ControlSocket(const ControlSocket&) = delete;
  ControlSocket& operator=(const ControlSocket&) = delete;

  // Moves the socket to the path. False with `error` set on failure (the private name is removed).
  bool publish(Publish how, std::string* error);

  int fd() const { return fd_.get(); }
  const std::string& path() const { return path_; }

 private:
  ControlSocket(std::string path, std::string temp_path, common::UniqueFd fd, dev_t device,
                ino_t inode);
  bool replaceStale(std::string* error);

  const std::string path_;
  const std::string temp_path_;
  common::UniqueFd fd_;
  const dev_t device_;  // the socket file's identity, to remove only our own
  const ino_t inode_;
  bool published_ = false;
};

}  // namespace reactord::server
