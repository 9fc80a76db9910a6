#pragma once

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "common/cgroup.h"

namespace reactord::common {

// A fake /proc/self and cgroup filesystem under a temporary directory, removed at the end.
class FakeCgroupTree {
 public:
  FakeCgroupTree() {
    namespace fs = std::filesystem;
    std::string pattern = (fs::temp_directory_path() / "cgroup_test.XXXXXX").string();
    root_ = mkdtemp(pattern.data());
    fs::create_directories(root_ + "/proc/self");
  }
  ~FakeCgroupTree() { std::filesystem::remove_all(root_); }
  FakeCgroupTree(const FakeCgroupTree&) = delete;
  FakeCgroupTree& operator=(const FakeCgroupTree&) = delete;

  void write(const std::string& path, const std::string& text) {
    std::filesystem::create_directories(std::filesystem::path(root_ + path).parent_path());
    std::ofstream(root_ + path) << text;
  }
  CgroupPaths paths() const { return {root_ + "/proc/self", root_}; }
  std::string path(const std::string& inside) const { return root_ + inside; }

 private:
  std::string root_;
};

}  // namespace reactord::common
