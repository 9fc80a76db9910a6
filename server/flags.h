#pragma once

#include "server/server_options.h"

namespace reactord::server {

// Parses the command line (gflags: --flagfile, --tryfromenv and glog's flags work as usual),
// validates every flag, points glog at stderr unless the user configured glog, and returns the
// options with --workers resolved (0 = the CPUs this process may use). Exits non-zero with a
// message naming the flag on bad input; --help and --version exit as gflags does. Main-thread-only,
// before any other thread starts.
ServerOptions parseCommandLine(int* argc, char*** argv);

}  // namespace reactord::server
