#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <string>

namespace reactord::testing {

// A private directory under /tmp (mode 0700), removed with everything in it when the object goes.
// Test-thread-only.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "reactord-test") {
    std::string pattern = "/tmp/" + prefix + "-XXXXXX";
    EXPECT_NE(mkdtemp(pattern.data()), nullptr) << "mkdtemp " << pattern;
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

}  // namespace reactord::testing
