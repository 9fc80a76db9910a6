#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace reactord::client::testing {

struct ProcessResult {
  int exit_code = -1;      // -N when killed by signal N
  bool timed_out = false;  // killed by runProcess at the deadline
  std::string out;
  std::string err;
};

// Runs `argv` (argv[0] is a path), feeds it `input` on stdin (then closes stdin), and collects
// stdout and stderr until it exits. At `timeout` it is killed and timed_out is set. Test thread.
ProcessResult runProcess(const std::vector<std::string>& argv, const std::string& input,
                         std::chrono::milliseconds timeout);

}  // namespace reactord::client::testing
