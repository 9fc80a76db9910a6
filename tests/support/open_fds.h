#pragma once

#include <dirent.h>

namespace reactord::testing {

// Descriptors this process has open now (from /proc/self/fd), for tests that check that nothing
// leaks on an error path.
inline int openFdCount() {
  int count = 0;
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) {
    return -1;
  }
  while (dirent* entry = readdir(dir)) {
    count += entry->d_name[0] != '.';
  }
  closedir(dir);
  return count - 1;  // the directory's own descriptor
}

}  // namespace reactord::testing
