#pragma once

#include <string>

namespace reactord::server {

// What to change after a start-up step failed with `error` (an errno value), for the end of the
// one-line message: "; the open-file limit (ulimit -n) is 12: raise it, or use fewer --workers
// ...". Empty when the error is not about a resource limit. Any thread.
std::string resourceHint(int error);

}  // namespace reactord::server
