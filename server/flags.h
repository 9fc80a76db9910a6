#pragma once

#include "server/server_options.h"

namespace reactord::server {

// Parses the flags (FLAGS_<name> environment variables, then the command line, every --flagfile
// expanded; see CommandLine), validates every flag, points glog at stderr unless the user
// configured glog, and returns the options with --workers resolved (0 = the CPUs this process may
// use). Exits 1 with a message naming the flag and where it came from on bad input; --help and
// --version print and exit 0. Main-thread-only, before any other thread starts.
ServerOptions parseCommandLine(int* argc, char*** argv);

}  // namespace reactord::server
