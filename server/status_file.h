#pragma once

#include <sys/types.h>

#include <string>

#include "common/server_status.h"

namespace reactord::server {

// The --status_file of a running server (format: common/server_status.h): write() puts it in
// place atomically once the listeners are open; the destructor removes it when the server exits,
// so that a checker never reads the address of a server that has gone; but not when another
// file is at the path by then (a newer process that took the listeners over wrote its own). An
// empty path is "off": write() does nothing. Owned and used by the main thread only.
class StatusFile {
 public:
  explicit StatusFile(std::string path) : path_(std::move(path)) {}
  ~StatusFile();
  StatusFile(const StatusFile&) = delete;
  StatusFile& operator=(const StatusFile&) = delete;

  // False with `error` naming the path and the errno text when the file cannot be written.
  bool write(const common::ServerStatus& status, std::string* error);

 private:
  const std::string path_;
  bool written_ = false;
  // The file written (device and inode), to tell it from one that replaced it since.
  dev_t device_ = 0;
  ino_t inode_ = 0;
};

}  // namespace reactord::server
