#pragma once

#include <string>

#include "common/server_status.h"

namespace reactord::server {

// The --status_file of a running server (format: common/server_status.h): write() puts it in
// place atomically once the listeners are open; the destructor removes it when the server exits,
// so that a checker never reads the address of a server that has gone. An empty path is "off":
// write() does nothing. Owned and used by the main thread only.
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
};

}  // namespace reactord::server
